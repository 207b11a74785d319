package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// httpClient is shared by every worker: keep-alive connections, as a real
// API client would hold them.
var httpClient *http.Client

// seededWorkflows is how many workflows the list scenario reads per page.
const seededWorkflows = 20

// fixture is what the scenarios need from the server before the clock runs.
type fixture struct {
	adminToken string
	apiKey     string
	// rateLimit is the X-RateLimit-Limit the server answered with; empty
	// means rate limiting is off and the numbers do not include its cost.
	rateLimit string
	// deliveriesWorkflow holds the seeded 1 MiB deliveries ("" when
	// -deliveries is 0).
	deliveriesWorkflow string
}

// prepare logs in, mints an API key, makes sure the workflows list has a
// full page to return, and checks that answers carry rate-limit headers.
func prepare(ctx context.Context) (*fixture, error) {
	tok, err := login(ctx, *username, *password)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	key, err := createKey(ctx, tok)
	if err != nil {
		return nil, fmt.Errorf("create API key: %w", err)
	}
	if err := seedWorkflows(ctx, tok, seededWorkflows); err != nil {
		return nil, fmt.Errorf("seed workflows: %w", err)
	}
	limit, err := probeRateLimit(ctx, tok)
	if err != nil {
		return nil, err
	}
	if err := checkRefreshSemantics(ctx); err != nil {
		return nil, fmt.Errorf("refresh semantics: %w", err)
	}
	f := &fixture{adminToken: tok, apiKey: key, rateLimit: limit}
	if *deliveries > 0 {
		if f.deliveriesWorkflow, err = seedDeliveries(ctx, tok, *deliveries); err != nil {
			return nil, fmt.Errorf("seed deliveries: %w", err)
		}
	}
	return f, nil
}

func (f *fixture) describe() string {
	if f.rateLimit == "" {
		return "rate limiting: OFF (no X-RateLimit-Limit header) — the table does not include its cost"
	}
	return "rate limiting: on, X-RateLimit-Limit " + f.rateLimit + "/min (too large to trip); refresh semantics checked: revokes, same successor within the grace"
}

// probeRateLimit reads X-RateLimit-Limit from an authenticated answer.
func probeRateLimit(ctx context.Context, tok string) (string, error) {
	req, err := newRequest(ctx, http.MethodGet, "/api/v1/auth/me", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /api/v1/auth/me: status %d", resp.StatusCode)
	}
	return resp.Header.Get("X-RateLimit-Limit"), nil
}

func newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, *base+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "m9m-load/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// call sends one request and decodes a 2xx JSON answer into out. Error
// answers are reported by status and code only: bodies might echo input.
func call(ctx context.Context, method, path, bearer string, body, out any) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	req, err := newRequest(ctx, method, path, b)
	if err != nil {
		return err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(data, &env)
		return fmt.Errorf("%s %s: status %d %s", method, path, resp.StatusCode, env.Code)
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
	if err := call(ctx, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": u, "password": p}, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", errors.New("login answered without a token")
	}
	return out.Token, nil
}

func createKey(ctx context.Context, token string) (string, error) {
	var out struct {
		Key string `json:"key"`
	}
	name := "load-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := call(ctx, http.MethodPost, "/api/v1/api-keys", token, map[string]any{"name": name}, &out); err != nil {
		return "", err
	}
	return out.Key, nil
}

// seedWorkflows creates workflows until the caller's first page of n is
// full (a rerun against the same database adds none).
func seedWorkflows(ctx context.Context, token string, n int) error {
	have, err := countWorkflows(ctx, token, n)
	if err != nil {
		return err
	}
	for i := have; i < n; i++ {
		wf := map[string]any{"name": fmt.Sprintf("load-%d", i), "active": true, "nodes": []any{}, "connections": map[string]any{}}
		if err := call(ctx, http.MethodPost, "/api/v1/workflows", token, wf, nil); err != nil {
			return err
		}
	}
	if have, err = countWorkflows(ctx, token, n); err != nil {
		return err
	}
	if have != n {
		return fmt.Errorf("the workflows list returns %d items, want %d", have, n)
	}
	return nil
}

func countWorkflows(ctx context.Context, token string, limit int) (int, error) {
	var page struct {
		Data []json.RawMessage `json:"data"`
	}
	err := call(ctx, http.MethodGet, "/api/v1/workflows?limit="+strconv.Itoa(limit), token, nil, &page)
	return len(page.Data), err
}

// checkRefreshSemantics confirms, before the refresh scenario relies on
// them, the contract's refresh rules (§4): a refresh revokes the presented
// token, and repeating it within the grace returns the same successor.
func checkRefreshSemantics(ctx context.Context) error {
	t1, err := login(ctx, *username, *password)
	if err != nil {
		return err
	}
	t2, err := refresh(ctx, t1)
	if err != nil {
		return fmt.Errorf("first refresh: %w", err)
	}
	again, err := refresh(ctx, t1)
	if err != nil {
		return fmt.Errorf("repeated refresh within the grace: %w", err)
	}
	if again != t2 {
		return errors.New("a repeated refresh within the grace returned a different successor")
	}
	req, err := newRequest(ctx, http.MethodGet, "/api/v1/auth/me", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t1)
	if err := send(req, http.StatusUnauthorized, nil); err != nil {
		return fmt.Errorf("GET /api/v1/auth/me with the refreshed token, want 401: %w", err)
	}
	if _, err := refresh(ctx, t2); err != nil {
		return fmt.Errorf("refreshing the successor: %w", err)
	}
	return nil
}
