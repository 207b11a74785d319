package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.9.9.9:1", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"https://127.0.0.1", true},
		{"http://10.0.0.1:8080", false},
		{"http://192.0.2.1", false},
		{"http://example.com", false},
		{"http://127.0.0.1.nip.io", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
		{"http://[::ffff:10.0.0.1]:80", false},
	}
	for _, tc := range tests {
		err := checkLoopback(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

func TestStatCPU(t *testing.T) {
	tests := []struct {
		name, stat string
		want       time.Duration
	}{
		{"plain", "42 (m9m) S 1 42 42 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 8 0 100 1 2", 281 * clockTick},
		{"name with spaces and parentheses", "42 (a (b) c) R 1 42 42 0 -1 0 0 0 0 0 7 3 0 0", 10 * clockTick},
		{"truncated", "42 (m9m) S 1 42", 0},
		{"no name", "42 m9m S 1 42 42 0 -1 0 0 0 0 0 7 3 0 0", 0},
		{"not a number", "42 (m9m) S 1 42 42 0 -1 0 0 0 0 0 x 3 0 0", 0},
		{"empty", "", 0},
	}
	for _, tc := range tests {
		if got := statCPU(tc.stat); got != tc.want {
			t.Errorf("%s: statCPU = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStatusBytes(t *testing.T) {
	status := "Name:\tm9m\nVmHWM:\t  153600 kB\nVmRSS:\t   40960 kB\nVmBad:\t12 MB\n"
	tests := []struct {
		field string
		want  int64
	}{
		{"VmHWM:", 150 << 20},
		{"VmRSS:", 40 << 20},
		{"VmBad:", 0},
		{"VmSwap:", 0},
	}
	for _, tc := range tests {
		if got := statusBytes(status, tc.field); got != tc.want {
			t.Errorf("statusBytes(%s) = %d, want %d", tc.field, got, tc.want)
		}
	}
}

func TestResultAddsSlices(t *testing.T) {
	var total result
	total.add(result{
		ok: 3, errs: 1, firstErr: "first", dur: time.Second, peakRSS: 10, cpu: 30 * time.Millisecond,
		latencies: []time.Duration{3, 1, 2},
	})
	total.add(result{
		ok: 1, dur: time.Second, peakRSS: 20, cpu: 10 * time.Millisecond, firstErr: "second",
		latencies: []time.Duration{4},
	})
	if total.ok != 4 || total.errs != 1 || total.dur != 2*time.Second || total.peakRSS != 20 || total.firstErr != "first" {
		t.Fatalf("total = %+v", total)
	}
	if total.rate() != 2 {
		t.Errorf("rate = %v, want 2", total.rate())
	}
	if total.cpuPerOp() != 8*time.Millisecond {
		t.Errorf("cpuPerOp = %v, want 8ms (40ms over 5 operations)", total.cpuPerOp())
	}
	total.latencies = []time.Duration{1, 2, 3, 4}
	if total.pct(0.5) != 2 || total.pct(0.99) != 3 || total.pct(1) != 4 {
		t.Errorf("percentiles = %v %v %v", total.pct(0.5), total.pct(0.99), total.pct(1))
	}
	if (result{}).rate() != 0 || (result{}).pct(0.5) != 0 || (result{}).cpuPerOp() != 0 {
		t.Error("an empty result must report zeros")
	}
}

// TestSliceCountsOnlyWhatFinishesInTime checks that a slice ends by itself
// and counts only operations completed before its deadline.
func TestSliceCountsOnlyWhatFinishesInTime(t *testing.T) {
	slow := func(ctx context.Context) error {
		select {
		case <-time.After(80 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	failing := func(context.Context) error {
		time.Sleep(time.Millisecond)
		return errors.New("boom")
	}
	sc := scenario{name: "t", conns: 2, inProcess: true}
	begin := time.Now()
	r := sc.slice(context.Background(), []worker{slow, failing}, 200*time.Millisecond)
	took := time.Since(begin)
	if took > 400*time.Millisecond {
		t.Fatalf("slice took %v, want it to end soon after its 200ms", took)
	}
	if r.dur != 200*time.Millisecond {
		t.Errorf("dur = %v, want the slice's 200ms", r.dur)
	}
	// 80 ms each: two finish by 200 ms (one, on a slow machine), the
	// third ends at 240 ms, too late to count.
	if r.ok < 1 || r.ok > 2 || int64(len(r.latencies)) != r.ok {
		t.Errorf("ok = %d (latencies %v), want 1 or 2", r.ok, r.latencies)
	}
	if r.errs < 10 || r.firstErr != "boom" {
		t.Errorf("errs = %d, firstErr = %q", r.errs, r.firstErr)
	}
}

func TestRunAllKeepsGoingAfterABrokenScenario(t *testing.T) {
	setFlags(t, "http://127.0.0.1:1")
	*duration, *rounds = 40*time.Millisecond, 2
	ok := func(context.Context) (worker, error) { return func(context.Context) error { return nil }, nil }
	broken := func(context.Context) (worker, error) { return nil, errors.New("no login") }
	rs := runAll(context.Background(), []scenario{
		{name: "broken", conns: 1, newWorker: broken, inProcess: true},
		{name: "fine", conns: 1, newWorker: ok, inProcess: true},
		{name: "skipped", conns: 1, newWorker: ok, inProcess: true},
	}, map[string]bool{"broken": true, "fine": true})
	if len(rs) != 2 || rs[0].name != "broken" || rs[1].name != "fine" {
		t.Fatalf("results = %+v", rs)
	}
	if rs[0].errs != 1 || !strings.Contains(rs[0].firstErr, "no login") {
		t.Errorf("broken = %+v", rs[0])
	}
	if rs[1].ok == 0 || rs[1].errs != 0 || rs[1].dur != 40*time.Millisecond {
		t.Errorf("fine = ok %d errs %d dur %v, want some ok, no errors, 2 slices of 20ms", rs[1].ok, rs[1].errs, rs[1].dur)
	}
}

// refreshServer implements the contract's refresh rules: a refresh revokes
// the presented token and issues one successor; repeating it returns that
// successor (the grace never ends here); anything else is 401. dropNext
// makes the next refresh happen on the server but lose its answer.
type refreshServer struct {
	mu        sync.Mutex
	n         int
	valid     map[string]bool
	successor map[string]string
	logins    int
	dropNext  bool
}

func (s *refreshServer) next() string { s.n++; return fmt.Sprintf("tok-%d", s.n) }

func (s *refreshServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/api/v1/auth/login":
		s.logins++
		tok := s.next()
		s.valid[tok] = true
		_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
	case "/api/v1/auth/refresh":
		cur := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		succ, repeated := s.successor[cur]
		switch {
		case repeated:
		case s.valid[cur]:
			delete(s.valid, cur)
			succ = s.next()
			s.valid[succ] = true
			s.successor[cur] = succ
		default:
			http.Error(w, `{"code":"AUTH_REQUIRED"}`, http.StatusUnauthorized)
			return
		}
		if s.dropNext {
			s.dropNext = false
			panic(http.ErrAbortHandler) // the client sees a broken connection
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"token": succ})
	default:
		http.NotFound(w, r)
	}
}

func setFlags(t *testing.T, url string) {
	t.Helper()
	oldBase, oldUser, oldPass, oldClient := *base, *username, *password, httpClient
	oldDur, oldRounds := *duration, *rounds
	*base, *username, *password, httpClient = url, "admin", "pw", newClient()
	t.Cleanup(func() {
		*base, *username, *password, httpClient = oldBase, oldUser, oldPass, oldClient
		*duration, *rounds = oldDur, oldRounds
	})
}

func TestRefreshWorkerOwnsItsChain(t *testing.T) {
	fake := &refreshServer{valid: map[string]bool{}, successor: map[string]string{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	setFlags(t, srv.URL)
	ctx := context.Background()

	a, err := refreshWorker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := refreshWorker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Interleaved refreshes of two chains: each presents only its own
	// latest token, so none is refused.
	for i := range 5 {
		if err := a(ctx); err != nil {
			t.Fatalf("a, refresh %d: %v", i, err)
		}
		if err := b(ctx); err != nil {
			t.Fatalf("b, refresh %d: %v", i, err)
		}
	}
	// A lost answer: the server rotated, the worker did not see it. The
	// retry presents the same token and gets the same successor.
	fake.mu.Lock()
	fake.dropNext = true
	fake.mu.Unlock()
	if err := a(ctx); err == nil {
		t.Fatal("a dropped answer must count as an error")
	}
	if err := a(ctx); err != nil {
		t.Fatalf("retry after a lost answer: %v", err)
	}
	// The chain is cut server-side (logout, restart): one 401, then the
	// worker logs in again and carries on.
	fake.mu.Lock()
	clear(fake.valid)
	clear(fake.successor)
	logins := fake.logins
	fake.mu.Unlock()
	var se *statusError
	if err := b(ctx); !errors.As(err, &se) || se.status != http.StatusUnauthorized {
		t.Fatalf("refresh of a cut chain = %v, want status 401", err)
	}
	if err := b(ctx); err != nil {
		t.Fatalf("refresh after logging in again: %v", err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.logins != logins+1 {
		t.Errorf("logins = %d, want one more than %d", fake.logins, logins)
	}
}

func TestCheckRefreshSemanticsRefusesAServerThatDoesNotRevoke(t *testing.T) {
	// A server whose refresh leaves the old token valid fails the check.
	mux := http.NewServeMux()
	n := 0
	var mu sync.Mutex
	mux.HandleFunc("/api/v1/auth/login", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"token": "first"})
	})
	mux.HandleFunc("/api/v1/auth/refresh", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		n++
		tok := fmt.Sprintf("next-%d", n)
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
	})
	mux.HandleFunc("/api/v1/auth/me", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{}")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	setFlags(t, srv.URL)
	if err := checkRefreshSemantics(context.Background()); err == nil {
		t.Fatal("a server that issues a new successor on every refresh passed the check")
	}
}

func TestCheckRefreshSemanticsAcceptsTheContract(t *testing.T) {
	fake := &refreshServer{valid: map[string]bool{}, successor: map[string]string{}}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/auth/", fake)
	mux.HandleFunc("/api/v1/auth/me", func(w http.ResponseWriter, r *http.Request) {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		if !fake.valid[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	setFlags(t, srv.URL)
	if err := checkRefreshSemantics(context.Background()); err != nil {
		t.Fatal(err)
	}
}
