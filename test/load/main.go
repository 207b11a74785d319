// Command load drives a running m9m instance on loopback at a fixed
// concurrency for a fixed time per scenario and prints one table:
// scenario, req/s, p50, p99, errors, peak RSS, and each scenario's ratio to
// GET /health from the same run. It is bounded (duration × scenarios) and
// refuses any target that is not a loopback address.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type scenario struct {
	name string
	// setup runs once per worker and returns the request maker.
	setup func(ctx context.Context, w int) (func() (*http.Request, func(*http.Response) error), error)
	conc  int
}

type result struct {
	name      string
	reqs      int64
	errs      int64
	dur       time.Duration
	latencies []time.Duration
	peakRSS   int64
}

var (
	base       = flag.String("url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	duration   = flag.Duration("duration", 5*time.Second, "time per scenario")
	conc       = flag.Int("c", 32, "concurrent connections")
	loginConc  = flag.Int("login-c", 64, "concurrent connections for the login flood")
	pid        = flag.Int("pid", 0, "server pid, to read peak RSS (VmHWM) from /proc")
	username   = flag.String("user", "admin", "login username")
	password   = flag.String("password", "", "login password")
	only       = flag.String("only", "", "comma-separated scenario names to run (default all)")
	httpClient *http.Client
)

func main() {
	flag.Parse()
	if err := checkLoopback(*base); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	httpClient = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: 256,
			MaxConnsPerHost:     256,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	ctx := context.Background()
	admin, err := login(ctx, *username, *password)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load: login:", err)
		os.Exit(1)
	}
	apiKey, err := createKey(ctx, admin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load: create API key:", err)
		os.Exit(1)
	}
	if err := seedWorkflows(ctx, admin, 20); err != nil {
		fmt.Fprintln(os.Stderr, "load: seed workflows:", err)
		os.Exit(1)
	}

	get := func(path string, hdr map[string]string) func(context.Context, int) (func() (*http.Request, func(*http.Response) error), error) {
		return func(context.Context, int) (func() (*http.Request, func(*http.Response) error), error) {
			return func() (*http.Request, func(*http.Response) error) {
				req, _ := http.NewRequest(http.MethodGet, *base+path, nil)
				for k, v := range hdr {
					req.Header.Set(k, v)
				}
				return req, expect(http.StatusOK)
			}, nil
		}
	}
	loginBody, _ := json.Marshal(map[string]string{"username": *username, "password": *password})
	scenarios := []scenario{
		{name: "GET /health", setup: get("/health", nil), conc: *conc},
		{name: "JWT GET /api/v1/auth/me", setup: get("/api/v1/auth/me", map[string]string{"Authorization": "Bearer " + admin}), conc: *conc},
		{name: "API key GET /api/v1/auth/me", setup: get("/api/v1/auth/me", map[string]string{"X-API-Key": apiKey}), conc: *conc},
		{name: "JWT GET /api/v1/workflows (20)", setup: get("/api/v1/workflows?limit=20", map[string]string{"Authorization": "Bearer " + admin}), conc: *conc},
		{name: "POST /api/v1/auth/login", conc: *conc, setup: func(context.Context, int) (func() (*http.Request, func(*http.Response) error), error) {
			return func() (*http.Request, func(*http.Response) error) {
				req, _ := http.NewRequest(http.MethodPost, *base+"/api/v1/auth/login", bytes.NewReader(loginBody))
				req.Header.Set("Content-Type", "application/json")
				return req, expect(http.StatusOK)
			}, nil
		}},
		{name: "POST /api/v1/auth/refresh", conc: *conc, setup: func(ctx context.Context, _ int) (func() (*http.Request, func(*http.Response) error), error) {
			tok, err := login(ctx, *username, *password)
			if err != nil {
				return nil, err
			}
			var mu sync.Mutex
			return func() (*http.Request, func(*http.Response) error) {
				mu.Lock()
				cur := tok
				mu.Unlock()
				req, _ := http.NewRequest(http.MethodPost, *base+"/api/v1/auth/refresh", nil)
				req.Header.Set("Authorization", "Bearer "+cur)
				return req, func(resp *http.Response) error {
					if resp.StatusCode != http.StatusOK {
						return fmt.Errorf("status %d", resp.StatusCode)
					}
					var out struct {
						Token string `json:"token"`
					}
					if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
						return err
					}
					mu.Lock()
					tok = out.Token
					mu.Unlock()
					return nil
				}
			}, nil
		}},
		{name: "login flood (64 conns)", conc: *loginConc, setup: func(context.Context, int) (func() (*http.Request, func(*http.Response) error), error) {
			return func() (*http.Request, func(*http.Response) error) {
				req, _ := http.NewRequest(http.MethodPost, *base+"/api/v1/auth/login", bytes.NewReader(loginBody))
				req.Header.Set("Content-Type", "application/json")
				return req, expect(http.StatusOK)
			}, nil
		}},
	}
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var results []result
	for _, sc := range scenarios {
		if len(want) > 0 && !want[sc.name] {
			continue
		}
		r, err := run(ctx, sc)
		if err != nil {
			fmt.Fprintf(os.Stderr, "load: %s: %v\n", sc.name, err)
			os.Exit(1)
		}
		results = append(results, r)
		time.Sleep(500 * time.Millisecond) // let the server settle between scenarios
	}
	printTable(results)
}

func expect(status int) func(*http.Response) error {
	return func(resp *http.Response) error {
		if resp.StatusCode != status {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		_, err := io.Copy(io.Discard, resp.Body)
		return err
	}
}

func run(ctx context.Context, sc scenario) (result, error) {
	res := result{name: sc.name}
	makers := make([]func() (*http.Request, func(*http.Response) error), sc.conc)
	for w := range makers {
		m, err := sc.setup(ctx, w)
		if err != nil {
			return res, err
		}
		makers[w] = m
	}
	deadline := time.Now().Add(*duration)
	var reqs, errs atomic.Int64
	lat := make([][]time.Duration, sc.conc)
	var wg sync.WaitGroup
	var stopRSS atomic.Bool
	rssDone := make(chan int64)
	go func() { rssDone <- sampleRSS(&stopRSS) }()
	start := time.Now()
	for w := 0; w < sc.conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				req, check := makers[w]()
				t0 := time.Now()
				resp, err := httpClient.Do(req)
				if err == nil {
					err = check(resp)
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				lat[w] = append(lat[w], time.Since(t0))
				reqs.Add(1)
				if err != nil {
					errs.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	res.dur = time.Since(start)
	stopRSS.Store(true)
	res.peakRSS = <-rssDone
	res.reqs, res.errs = reqs.Load(), errs.Load()
	for _, l := range lat {
		res.latencies = append(res.latencies, l...)
	}
	sort.Slice(res.latencies, func(i, j int) bool { return res.latencies[i] < res.latencies[j] })
	return res, nil
}

// sampleRSS returns the server's resident set peak seen while sampling
// (VmRSS every 20 ms; VmHWM would include earlier scenarios).
func sampleRSS(stop *atomic.Bool) int64 {
	var peak int64
	for !stop.Load() {
		if v := readRSS(); v > peak {
			peak = v
		}
		time.Sleep(20 * time.Millisecond)
	}
	return peak
}

func readRSS() int64 {
	if *pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", *pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func pct(l []time.Duration, p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	i := int(float64(len(l)-1) * p)
	return l[i]
}

func printTable(rs []result) {
	var health float64
	for _, r := range rs {
		if r.name == "GET /health" {
			health = float64(r.reqs) / r.dur.Seconds()
		}
	}
	fmt.Printf("| scenario | conns | req/s | p50 | p99 | errors | peak RSS | ratio to /health |\n")
	fmt.Printf("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		rps := float64(r.reqs) / r.dur.Seconds()
		ratio := "-"
		if health > 0 {
			ratio = fmt.Sprintf("%.2f", rps/health)
		}
		conns := *conc
		if strings.HasPrefix(r.name, "login flood") {
			conns = *loginConc
		}
		fmt.Printf("| %s | %d | %.0f | %s | %s | %d | %.1f MiB | %s |\n", r.name, conns, rps,
			fmtDur(pct(r.latencies, 0.50)), fmtDur(pct(r.latencies, 0.99)), r.errs, float64(r.peakRSS)/(1<<20), ratio)
	}
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
}

func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errors.New("refusing to send load to a non-loopback address: " + host)
	}
	return nil
}

func postJSON(ctx context.Context, path, bearer string, body any, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, *base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s: %d %s", path, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func login(ctx context.Context, u, p string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	err := postJSON(ctx, "/api/v1/auth/login", "", map[string]string{"username": u, "password": p}, &out)
	return out.Token, err
}

func createKey(ctx context.Context, token string) (string, error) {
	var out struct {
		Key string `json:"key"`
	}
	err := postJSON(ctx, "/api/v1/api-keys", token, map[string]any{"name": "load-" + strconv.FormatInt(time.Now().UnixNano(), 36)}, &out)
	return out.Key, err
}

func seedWorkflows(ctx context.Context, token string, n int) error {
	for i := 0; i < n; i++ {
		wf := map[string]any{"name": fmt.Sprintf("load-%d", i), "active": true, "nodes": []any{}, "connections": map[string]any{}}
		if err := postJSON(ctx, "/api/v1/workflows", token, wf, nil); err != nil {
			return err
		}
	}
	return nil
}
