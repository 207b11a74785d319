package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/jwt"
	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
)

// rotationPhase is one step of the README's JWT secret rotation: what
// security.jwt.secret and security.jwt.previous_secrets hold.
type rotationPhase struct {
	name     string
	secret   string
	previous []string
}

// rotationSlot is one of the two instances, restarted in place (same port)
// by the roll-out while traffic runs.
type rotationSlot struct {
	name  string
	port  int
	url   atomic.Pointer[string] // nil while the instance is down
	srv   *harness.Server
	phase atomic.Int32
}

// TestJWTSecretRotationRollout rolls a new JWT signing secret through two
// instances in the README's three phases, one instance at a time, while
// traffic logs in, refreshes and calls /auth/me on both: no token issued by
// either instance, in any mix of phases, is ever refused by the other (or
// by itself after its restart). Between phases 2 and 3 the procedure waits
// one token lifetime; the injected clock jumps instead.
func TestJWTSecretRotationRollout(t *testing.T) {
	t.Parallel()
	oldSecret := "old-" + strings.Repeat("o", 40)
	newSecret := "new-" + strings.Repeat("n", 40)
	phases := []rotationPhase{
		{"0: old signs", oldSecret, nil},
		{"1: new verifies", oldSecret, []string{newSecret}},
		{"2: new signs", newSecret, []string{oldSecret}},
		{"3: old dropped", newSecret, nil},
	}
	clock := memory.NewClock(time.Now().UTC())
	const expiration = time.Hour
	slots := []*rotationSlot{{name: "A", port: freePort(t)}, {name: "B", port: freePort(t)}}

	start := func(s *rotationSlot, p int, shared *harness.Server) {
		opts := []harness.Option{harness.WithClock(clock)}
		if shared != nil {
			opts = append(opts, harness.SharedWith(shared))
		}
		opts = append(opts, harness.WithConfig(func(c *config.Config) {
			c.Server.Port = s.port
			c.Security.JWT.Secret = phases[p].secret
			c.Security.JWT.PreviousSecrets = phases[p].previous
			c.Security.JWT.Expiration = expiration
			c.Security.JWT.Leeway = time.Second
			c.Security.LoginThrottle.Enabled = false
		}))
		s.srv = harness.Start(t, opts...)
		s.phase.Store(int32(p))
		u := s.srv.URL
		s.url.Store(&u)
	}
	start(slots[0], 0, nil)
	start(slots[1], 0, slots[0].srv)
	adminPassword := slots[0].srv.AdminPassword()

	// pause stops traffic while the clock jumps (tokens then expire, which
	// is no refusal of the rotation's doing).
	var pause sync.RWMutex
	var checks atomic.Int64
	var mu sync.Mutex
	var refused []string
	reset := make([]atomic.Bool, 2)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			type issued struct {
				token, by string
				phase     int32
			}
			var pool []issued
			for {
				select {
				case <-stop:
					return
				default:
				}
				pause.RLock()
				if reset[g].Swap(false) {
					pool = nil
				}
				from := slots[rand.IntN(2)]
				if u := from.url.Load(); u != nil {
					switch tok, st, err := rotationLogin(client, *u, adminPassword); {
					case err == nil && st == http.StatusOK:
						pool = append(pool, issued{tok, from.name, from.phase.Load()})
					case err == nil:
						mu.Lock()
						refused = append(refused, fmt.Sprintf("login on %s (phase %d): %d", from.name, from.phase.Load(), st))
						mu.Unlock()
					}
				}
				if len(pool) > 40 {
					pool = pool[len(pool)-40:]
				}
				for _, to := range slots {
					u := to.url.Load()
					if u == nil || len(pool) == 0 {
						continue
					}
					i := rand.IntN(len(pool))
					tk := pool[i]
					refresh := rand.IntN(4) == 0
					st, next, err := rotationUse(client, *u, tk.token, refresh)
					if err != nil {
						continue // the instance is restarting: not a refusal
					}
					checks.Add(1)
					if st != http.StatusOK {
						mu.Lock()
						refused = append(refused, fmt.Sprintf("token issued by %s in phase %d refused by %s in phase %d (refresh %v): %d",
							tk.by, tk.phase, to.name, to.phase.Load(), refresh, st))
						mu.Unlock()
						continue
					}
					if refresh { // the presented token is revoked; its successor is the receiver's
						pool[i] = issued{next, to.name, to.phase.Load()}
					}
				}
				pause.RUnlock()
			}
		}()
	}
	// waitTraffic lets traffic run for n more cross-instance checks.
	waitTraffic := func(n int64) {
		t.Helper()
		target := checks.Load() + n
		deadline := time.Now().Add(30 * time.Second)
		for checks.Load() < target {
			if time.Now().After(deadline) {
				t.Fatalf("traffic stalled at %d checks", checks.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitTraffic(20)
	for p := 1; p < len(phases); p++ {
		if p == 3 {
			// The procedure waits security.jwt.expiration after phase 2 is
			// everywhere: every token signed with the old secret has expired.
			pause.Lock()
			clock.Advance(expiration + 2*time.Second)
			for i := range reset {
				reset[i].Store(true)
			}
			pause.Unlock()
			waitTraffic(20)
		}
		for i, s := range slots {
			s.url.Store(nil)
			s.srv.Stop(t)
			start(s, p, slots[1-i].srv)
			waitTraffic(30) // this mix of phases, under traffic
		}
	}
	close(stop)
	wg.Wait()
	if len(refused) > 0 {
		t.Fatalf("%d of %d checks refused during the roll-out, e.g.:\n  %s", len(refused), checks.Load(), strings.Join(refused[:min(len(refused), 10)], "\n  "))
	}
	t.Logf("%d cross-instance token checks, none refused", checks.Load())

	// Each instance logged the key ids of its phase (fingerprints only).
	oldKID, newKID := jwt.KIDFor([]byte(oldSecret)), jwt.KIDFor([]byte(newSecret))
	for _, s := range slots {
		logs := s.srv.Logs()
		if !strings.Contains(logs, `"sign_kid":"`+newKID+`"`) || !strings.Contains(logs, `"verify_kids":["`+newKID+`"]`) {
			t.Errorf("%s: no jwt keys line with sign_kid %s and verify_kids [%s]:\n%s", s.name, newKID, newKID, logs)
		}
		if strings.Contains(logs, oldKID) {
			t.Errorf("%s in phase 3 still names the old kid %s", s.name, oldKID)
		}
		if strings.Contains(logs, oldSecret) || strings.Contains(logs, newSecret) {
			t.Errorf("%s logged a secret", s.name)
		}
	}
}

// rotationLogin logs in as the bootstrap admin and returns the token.
func rotationLogin(c *http.Client, base, password string) (string, int, error) {
	body := fmt.Sprintf(`{"username":%q,"password":%q}`, harness.AdminUsername, password)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/api/v1/auth/login", strings.NewReader(body))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	return rotationToken(c, req)
}

// rotationUse presents token to GET /auth/me, or to POST /auth/refresh, and
// returns the status and, for a refresh, the successor.
func rotationUse(c *http.Client, base, token string, refresh bool) (int, string, error) {
	method, path := http.MethodGet, "/api/v1/auth/me"
	if refresh {
		method, path = http.MethodPost, "/api/v1/auth/refresh"
	}
	req, err := http.NewRequestWithContext(context.Background(), method, base+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	next, st, err := rotationToken(c, req)
	return st, next, err
}

func rotationToken(c *http.Client, req *http.Request) (string, int, error) {
	resp, err := c.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", 0, err
	}
	var out struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal(b, &out)
	return out.Token, resp.StatusCode, nil
}
