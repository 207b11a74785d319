// Package httpapi is m9m's HTTP adapter: the echo server, its middleware
// (request IDs, security headers, body limit, access log, authentication,
// rate limiting, authorization), the handlers, the error envelope and the
// OpenAPI document. It is the only package that knows HTTP status codes.
package httpapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/authn"
)

// Settings is the HTTP edge's own configuration, mapped from config by the
// composition root so this package does not depend on the config layout.
type Settings struct {
	Addr              string
	ReadTimeout       time.Duration
	ReadHeaderTimeout time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
	MaxBodyBytes      int64
	// TrustedProxies are the CIDRs whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	// TLS, when non-nil, serves HTTPS with this configuration and adds HSTS.
	TLS *tls.Config
	// CORS is applied when non-nil.
	CORS echo.MiddlewareFunc
}

// Params are the server's dependencies, collected by fx.
type Params struct {
	fx.In

	Lifecycle fx.Lifecycle
	Settings  Settings
	Log       *zap.Logger
	Chain     *authn.Chain
	Routes    []Routes         `group:"routes"`
	Readiness []ReadinessCheck `group:"readiness"`
	Limiter   port.RateLimiter `optional:"true"`
	Metrics   Metrics          `optional:"true"`
}

// Server is the running HTTP edge.
type Server struct {
	echo     *echo.Echo
	http     *http.Server
	settings Settings
	log      *zap.Logger
	ln       net.Listener
	table    map[string]Route
	conns    *connTracker
	// inFlight counts requests being served; drained is how many were in
	// flight when Stop began and were all answered before it returned.
	inFlight atomic.Int64
	drained  atomic.Int64
}

// New builds the server and registers its lifecycle with fx.
func New(p Params) (*Server, error) {
	s, err := Build(p.Settings, p.Log, p.Chain, p.Limiter, p.Metrics, p.Readiness, p.Routes...)
	if err != nil {
		return nil, err
	}
	p.Lifecycle.Append(fx.Hook{OnStart: s.Start, OnStop: s.Stop})
	return s, nil
}

// Build assembles the echo instance without fx (tests call it directly).
func Build(st Settings, log *zap.Logger, chain *authn.Chain, limiter port.RateLimiter, metrics Metrics, checks []ReadinessCheck, groups ...Routes) (*Server, error) {
	if metrics == nil {
		metrics = NopMetrics{}
	}
	if st.MaxBodyBytes <= 0 {
		st.MaxBodyBytes = 1 << 20
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Logger.SetOutput(zap.NewStdLog(log).Writer())
	eh := &errorHandler{log: log, basicEnabled: chain.BasicEnabled()}
	e.HTTPErrorHandler = eh.handle
	e.IPExtractor = clientIPExtractor(st.TrustedProxies)

	e.Use(edgeChain(st, log, metrics))

	g := &guard{chain: chain, limiter: limiter, log: log, metrics: metrics, public: map[string]bool{}}
	all := []Routes{systemRoutes(checks)}
	all = append(all, groups...)
	for _, rs := range all {
		for _, r := range rs {
			if r.Public {
				g.public[r.Path] = true
			}
		}
	}
	table := map[string]Route{}
	for _, rs := range all {
		for _, r := range rs {
			if !r.Public && r.Permission == "" && !r.AnyAuthenticated {
				return nil, fmt.Errorf("route %s %s: protected route without a permission", r.Method, r.Path)
			}
			key := r.Method + " " + r.Path
			if _, dup := table[key]; dup {
				return nil, fmt.Errorf("route %s registered twice", key)
			}
			table[key] = r
			e.Add(r.Method, r.Path, g.wrap(r))
		}
	}
	s := &Server{echo: e, settings: st, log: log, table: table, conns: newConnTracker()}
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serveCounted),
		ConnState:         s.conns.track,
		ReadTimeout:       st.ReadTimeout,
		ReadHeaderTimeout: st.ReadHeaderTimeout,
		WriteTimeout:      st.WriteTimeout,
		IdleTimeout:       st.IdleTimeout,
		TLSConfig:         st.TLS,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
	return s, nil
}

// serveCounted serves one request, counting it while it is in flight.
func (s *Server) serveCounted(w http.ResponseWriter, r *http.Request) {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	s.echo.ServeHTTP(w, r)
}

// Start listens, then serves in the background (fx OnStart must not block).
func (s *Server) Start(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.settings.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.settings.Addr, err)
	}
	s.ln = ln
	if s.settings.TLS != nil {
		ln = tls.NewListener(ln, s.settings.TLS)
	}
	s.log.Info("http server listening", zap.String("addr", s.ln.Addr().String()), zap.Bool("tls", s.settings.TLS != nil))
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", zap.Error(err))
		}
	}()
	return nil
}

// Stop drains in-flight requests, bounded by the shutdown timeout.
// Connections that never sent a request are closed after silentConnGrace
// instead of being waited for (see silentConnGrace).
func (s *Server) Stop(ctx context.Context) error {
	if s.settings.ShutdownTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.settings.ShutdownTimeout)
		defer cancel()
	}
	inFlight := s.inFlight.Load()
	s.log.Info("http server draining", zap.Int64("in_flight", inFlight))
	stopReaper := make(chan struct{})
	go s.conns.reapSilent(stopReaper, silentConnGrace, 100*time.Millisecond)
	defer close(stopReaper)
	if err := s.http.Shutdown(ctx); err != nil {
		_ = s.http.Close()
		return fmt.Errorf("drain http server: %w", err)
	}
	s.drained.Store(inFlight)
	return nil
}

// Drained is how many requests were in flight when Stop began, all of them
// answered before it returned (0 before Stop, or when the drain timed out).
func (s *Server) Drained() int64 { return s.drained.Load() }

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Handler exposes the router, for in-process tests and benchmarks.
func (s *Server) Handler() http.Handler { return s.echo }

// RouteTable returns "METHOD path" → route for every route the server
// registered itself (not echo's internal ones), sorted keys first.
func (s *Server) RouteTable() map[string]Route { return s.table }

// RegisteredRoutes lists what echo actually routes, as "METHOD path".
func (s *Server) RegisteredRoutes() []string {
	var out []string
	for _, r := range s.echo.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	sort.Strings(out)
	return out
}

// edgeChain is the middleware every request passes, in order: request id,
// latency metric and access line, panic recovery, security headers, CORS
// (when on), OPTIONS answers, body limit; then the handler the router chose.
//
// Echo applies its middleware anew on every request (each MiddlewareFunc
// is called with the routed handler and returns a fresh closure: one
// allocation per middleware per request). Here the chain is composed once,
// ending in a call to c.Handler(), and the one middleware echo sees returns
// that same chain every time. This holds because it is the only middleware
// registered (Build calls e.Use once, never e.Pre, and routes carry none):
// echo then hands it exactly c.Handler() as next.
func edgeChain(st Settings, log *zap.Logger, metrics Metrics) echo.MiddlewareFunc {
	var h echo.HandlerFunc = routedHandler
	h = bodyLimit(st.MaxBodyBytes)(h)
	h = answerOptions(h)
	if st.CORS != nil {
		h = st.CORS(h)
	}
	h = securityHeaders(st.TLS != nil)(h)
	h = recoverMiddleware(log)(h)
	h = observeAndLog(log, metrics)(h)
	h = requestIDMiddleware(h)
	return func(echo.HandlerFunc) echo.HandlerFunc { return h }
}

// routedHandler runs the handler the router matched (a route's, or echo's
// not-found or method-not-allowed handler).
func routedHandler(c echo.Context) error { return c.Handler()(c) }
