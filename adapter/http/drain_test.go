package httpapi

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/m9m/auth/usecase/authn"
)

// drainServer serves one public route that answers after delay.
func drainServer(t *testing.T, delay time.Duration) *Server {
	t.Helper()
	routes := Routes{{
		Method: http.MethodGet, Path: "/slow", Public: true,
		Handler: func(c echo.Context) error {
			time.Sleep(delay)
			return c.JSON(http.StatusOK, map[string]string{"status": "done"})
		},
	}}
	st := Settings{Addr: "127.0.0.1:0", ShutdownTimeout: 10 * time.Second}
	srv, err := Build(st, zap.NewNop(), &authn.Chain{}, nil, nil, nil, routes)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestDrainDoesNotWaitForSilentConnections: a connection that never sent a
// request (a spare one an HTTP client dialed and parked) does not hold the
// drain for net/http's 5 s; the drain ends within about silentConnGrace, and
// the silent connection is closed by the server.
func TestDrainDoesNotWaitForSilentConnections(t *testing.T) {
	t.Parallel()
	srv := drainServer(t, 0)
	var d net.Dialer
	silent, err := d.DialContext(context.Background(), "tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = silent.Close() }()
	// Let the server accept it (StateNew) before the drain begins.
	time.Sleep(50 * time.Millisecond)

	start := time.Now()
	if err := srv.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("drain took %v with one silent connection, want about %v (net/http alone waits 5 s)", took, silentConnGrace)
	}
	_ = silent.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Fatalf("silent connection still open after the drain")
	}
}

// TestDrainStillFinishesRequestsInFlight: closing silent connections never
// cuts a request that was sent: one in flight when the drain begins, slower
// than silentConnGrace, gets its real answer.
func TestDrainStillFinishesRequestsInFlight(t *testing.T) {
	t.Parallel()
	srv := drainServer(t, 2*silentConnGrace)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	type answer struct {
		status int
		body   string
		err    error
	}
	got := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+srv.Addr()+"/slow", nil)
		resp, err := client.Do(req)
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		got <- answer{status: resp.StatusCode, body: string(b), err: err}
	}()
	time.Sleep(200 * time.Millisecond) // the request is being served
	if err := srv.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	a := <-got
	if a.err != nil || a.status != http.StatusOK {
		t.Fatalf("request in flight during drain: status %d err %v body %q, want its 200", a.status, a.err, a.body)
	}
}
