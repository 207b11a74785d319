package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/m9m/auth/adapter/crypto"
	"github.com/m9m/auth/infra/config"
)

// Scenario names; printTargets looks rows up by them.
const (
	nameHealth    = "GET /health"
	nameJWTMe     = "JWT GET /api/v1/auth/me"
	nameKeyMe     = "API key GET /api/v1/auth/me"
	nameWorkflows = "JWT GET /api/v1/workflows (20)"
	nameHash      = "argon2id verify in-process (baseline)"
	nameLogin     = "POST /api/v1/auth/login"
	nameHashCap   = "argon2id verify in-process at hasher cap"
	nameLoginCap  = "POST /api/v1/auth/login at hasher cap"
	nameRefresh   = "POST /api/v1/auth/refresh"
	nameFlood     = "login flood"
	nameKeyCreate = "POST /api/v1/api-keys"
)

func scenarios(fx *fixture) []scenario {
	bearer := map[string]string{"Authorization": "Bearer " + fx.adminToken}
	hashCap := defaultHasherConfig().MaxConcurrent
	out := []scenario{
		{name: nameHealth, conns: *conc, newWorker: getWorker("/health", nil)},
		{name: nameJWTMe, conns: *conc, newWorker: getWorker("/api/v1/auth/me", bearer)},
		{name: nameKeyMe, conns: *conc, newWorker: getWorker("/api/v1/auth/me", map[string]string{"X-API-Key": fx.apiKey})},
		{name: nameWorkflows, conns: *conc, newWorker: getWorker(fmt.Sprintf("/api/v1/workflows?limit=%d", seededWorkflows), bearer)},
		// The hash alone, at the login scenario's concurrency, right before
		// it: login's ceiling on this machine under the same conditions.
		{name: nameHash, conns: *conc, newWorker: hashWorkers(), inProcess: true},
		{name: nameLogin, conns: *conc, newWorker: loginWorker},
		// With one connection per hashing slot nothing queues, so login's
		// p50 is one hash plus everything else login does.
		{name: nameHashCap, conns: hashCap, newWorker: hashWorkers(), inProcess: true},
		{name: nameLoginCap, conns: hashCap, newWorker: loginWorker},
		{name: nameRefresh, conns: *conc, newWorker: refreshWorker},
		{name: nameFlood, conns: *loginConc, newWorker: loginWorker},
		{name: nameKeyCreate, conns: *conc, newWorker: keyCreateWorker(fx.adminToken)},
	}
	if fx.deliveriesWorkflow != "" {
		out = append(out, scenario{name: nameExecutions, conns: 3, newWorker: executionsWorker(fx.deliveriesWorkflow, fx.adminToken)})
	}
	return out
}

// keysHeld is how many keys a key-creation worker holds before revoking
// them, in one call of every keysHeld+1: the other calls are one create
// each, so the p50 is a create's. 32 workers hold at most 32×keysHeld live
// keys, under the bench server's security.api_keys.max_per_user.
const keysHeld = 50

// keyCreateWorker creates API keys for token's user (an audited write: the
// key row and its event in one transaction).
func keyCreateWorker(token string) func(context.Context) (worker, error) {
	return func(context.Context) (worker, error) {
		var held []string
		return func(ctx context.Context) error {
			if len(held) == keysHeld {
				for _, id := range held {
					if err := call(ctx, http.MethodDelete, "/api/v1/api-keys/"+id, token, nil, nil); err != nil {
						return err
					}
				}
				held = held[:0]
				return nil
			}
			var out struct {
				ID string `json:"id"`
			}
			if err := call(ctx, http.MethodPost, "/api/v1/api-keys", token, map[string]any{"name": "load key"}, &out); err != nil {
				return err
			}
			held = append(held, out.ID)
			return nil
		}, nil
	}
}

// send does req and checks its status, always draining and closing the body
// so the connection is reused.
func send(req *http.Request, want int, out any) error {
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != want {
		_, _ = io.Copy(io.Discard, resp.Body)
		return &statusError{status: resp.StatusCode}
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// statusError is an unexpected HTTP status (the body is not kept: it could
// echo a credential).
type statusError struct{ status int }

func (e *statusError) Error() string { return fmt.Sprintf("status %d", e.status) }

func getWorker(path string, hdr map[string]string) func(context.Context) (worker, error) {
	return func(context.Context) (worker, error) {
		return func(ctx context.Context) error {
			req, err := newRequest(ctx, http.MethodGet, path, nil)
			if err != nil {
				return err
			}
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			return send(req, http.StatusOK, nil)
		}, nil
	}
}

func loginWorker(context.Context) (worker, error) {
	body, err := json.Marshal(map[string]string{"username": *username, "password": *password})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		req, err := newRequest(ctx, http.MethodPost, "/api/v1/auth/login", body)
		if err != nil {
			return err
		}
		return send(req, http.StatusOK, nil)
	}, nil
}

// refreshWorker owns one session's token chain: each refresh presents the
// token the previous one returned (the presented token is revoked by it).
// A transport error keeps the current token, since repeating a refresh
// within the grace returns the same successor; a 401 means the chain is
// gone, so the worker logs in again before its next refresh.
func refreshWorker(ctx context.Context) (worker, error) {
	tok, err := login(ctx, *username, *password)
	if err != nil {
		return nil, err
	}
	broken := false
	return func(ctx context.Context) error {
		if broken {
			if tok, err = login(ctx, *username, *password); err != nil {
				return err
			}
			broken = false
		}
		next, err := refresh(ctx, tok)
		var se *statusError
		switch {
		case err == nil:
			tok = next
		case errors.As(err, &se) && se.status == http.StatusUnauthorized:
			broken = true
		}
		return err
	}, nil
}

func refresh(ctx context.Context, tok string) (string, error) {
	req, err := newRequest(ctx, http.MethodPost, "/api/v1/auth/refresh", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	var out struct {
		Token string `json:"token"`
	}
	if err := send(req, http.StatusOK, &out); err != nil {
		return "", err
	}
	if out.Token == "" || out.Token == tok {
		return "", errors.New("refresh answered without a new token")
	}
	return out.Token, nil
}

// hashWorkers returns workers that share one hasher built exactly as the
// server builds its own from the default configuration: the same argon2id
// parameters and the same concurrency cap (NumCPU), so queueing behind the
// cap is part of what is measured, as it is for login.
func hashWorkers() func(context.Context) (worker, error) {
	h := crypto.NewArgon2Hasher(defaultHasherConfig())
	encoded := sync.OnceValues(func() (string, error) { return h.Hash(context.Background(), *password) })
	return func(context.Context) (worker, error) {
		enc, err := encoded()
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error {
			ok, _, err := h.Verify(ctx, *password, enc)
			if err == nil && !ok {
				err = errors.New("the password did not verify")
			}
			return err
		}, nil
	}
}

// defaultHasherConfig maps config.Default()'s security.password_hash the way
// the composition root does (cmd/m9m/app).
func defaultHasherConfig() crypto.HasherConfig {
	ph := config.Default().Security.PasswordHash
	return crypto.HasherConfig{
		Params: crypto.Argon2Params{
			MemoryKiB:   uint32(ph.MemoryKiB),  //nolint:gosec // a validated default
			Iterations:  uint32(ph.Iterations), //nolint:gosec // a validated default
			Parallelism: uint8(ph.Parallelism), //nolint:gosec // a validated default
		},
		MaxConcurrent: ph.EffectiveMaxConcurrent(),
		QueueTimeout:  ph.QueueTimeout,
	}
}
