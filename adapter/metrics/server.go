package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// Server serves the metrics on their own listener (monitoring.metrics.listen,
// loopback by default), so a scrape endpoint is never exposed where the API
// is, and a flood on the API port cannot hide the metrics that show it.
type Server struct {
	listen string
	http   *http.Server
	ln     net.Listener
	log    *zap.Logger
}

// NewServer serves m at path on listen (host:port; port 0 picks one).
func NewServer(listen, path string, m *Metrics, log *zap.Logger) *Server {
	mux := http.NewServeMux()
	mux.Handle("GET "+path, promhttp.HandlerFor(m.Registry(), promhttp.HandlerOpts{
		ErrorLog:          zap.NewStdLog(log.Named("metrics")),
		Registry:          m.Registry(),
		EnableOpenMetrics: false,
	}))
	return &Server{
		listen: listen,
		log:    log,
		http: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          zap.NewStdLog(log.Named("metrics")),
		},
	}
}

// Start listens, then serves in the background (fx OnStart must not block).
func (s *Server) Start(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.listen)
	if err != nil {
		return fmt.Errorf("monitoring.metrics.listen: listen on %s: %w", s.listen, err)
	}
	s.ln = ln
	s.log.Info("metrics server listening", zap.String("addr", ln.Addr().String()))
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics server stopped", zap.Error(err))
		}
	}()
	return nil
}

// Stop closes the listener after in-flight scrapes finish.
func (s *Server) Stop(ctx context.Context) error {
	if err := s.http.Shutdown(ctx); err != nil {
		_ = s.http.Close()
		return fmt.Errorf("stop metrics server: %w", err)
	}
	return nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}
