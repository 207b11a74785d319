package e2e_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
	"github.com/m9m/auth/test/testenv"
)

// TestWebhookEncryptionKeyRotation follows the README's rotation procedure:
// secrets sealed with K1; restart with K2 and K1 as previous, deliveries
// still accepted; `m9m webhooks reseal` while the service runs (and again:
// re-runnable); restart with K2 alone, deliveries still accepted. Without
// the reseal, K2 alone cannot open K1's secrets. It owns its database: the
// reseal reads every secret, and other tests' secrets use other keys.
func TestWebhookEncryptionKeyRotation(t *testing.T) {
	t.Parallel()
	const (
		k1     = "rotation-key-one-0123456789abcdef-e2e"
		k2     = "rotation-key-two-fedcba9876543210-e2e"
		secret = "whsec-rotation-4f1c9a7e2b"
	)
	dbURL := testenv.PrivateDatabaseURL(t)
	withKeys := func(current string, previous ...string) harness.Option {
		return harness.WithConfig(func(c *config.Config) {
			c.Database.URL = dbURL
			c.Security.WebhookEncryptionKey = current
			c.Security.PreviousWebhookEncryptionKeys = previous
		})
	}
	n := 0
	deliver := func(s *harness.Server, path string) *harness.Response {
		t.Helper()
		n++
		body := `{"delivery":` + strconv.Itoa(n) + `}`
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		return s.DoRaw(t, harness.Req{
			Method: http.MethodPost, Path: "/webhook/" + path, Body: body,
			Headers: map[string]string{"X-M9M-Timestamp": ts, "X-M9M-Signature": whSign(secret, ts, body)},
		})
	}
	accepted := func(s *harness.Server, path, when string) {
		t.Helper()
		if r := deliver(s, path); r.Status != http.StatusAccepted {
			t.Fatalf("%s: delivery to %s answered %d %s, want 202", when, path, r.Status, r.Body)
		}
	}
	create := func(s *harness.Server, token string) string {
		t.Helper()
		path := "rotation-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		r := s.Do(t, harness.Req{Method: http.MethodPost, Path: wfPath, Bearer: token, Body: map[string]any{
			"name": "rotation", "active": true,
			"webhook": map[string]any{"path": path, "auth": map[string]any{"type": "hmac", "secret": secret}},
		}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create hmac workflow: %d %s", r.Status, r.Body)
		}
		return path
	}
	cliEnv := func(previous string) []string {
		return binEnv("M9M_SECURITY_JWT_SECRET="+goodSecret, "M9M_DATABASE_URL="+dbURL,
			"M9M_SECURITY_WEBHOOK_ENCRYPTION_KEY="+k2, "M9M_SECURITY_PREVIOUS_WEBHOOK_ENCRYPTION_KEYS="+previous)
	}

	s1 := harness.Start(t, withKeys(k1))
	oldPath := create(s1, s1.AdminToken(t))
	accepted(s1, oldPath, "sealed with K1")
	s1.Stop(t)

	// The wrong order: K2 alone before the reseal cannot open K1's secret.
	early := harness.Start(t, withKeys(k2))
	if r := deliver(early, oldPath); r.Status != http.StatusInternalServerError || strings.Contains(string(r.Body), secret) {
		t.Fatalf("K2 alone before reseal: %d %s, want 500 (no key opens the secret)", r.Status, r.Body)
	}
	early.Stop(t)

	s2 := harness.Start(t, withKeys(k2, k1))
	accepted(s2, oldPath, "K2 with previous K1")
	newPath := create(s2, s2.AdminToken(t)) // sealed with K2 already

	// A reseal that lacks K1 cannot open the old secret and says so.
	out, err := runM9M(t, cliEnv(""), "webhooks", "reseal")
	if err == nil || !strings.Contains(out, "1 secrets open with no configured key") || strings.Contains(out, secret) {
		t.Fatalf("reseal without K1: %v\n%s", err, out)
	}
	// The real reseal, while s2 serves.
	out, err = runM9M(t, cliEnv(k1), "webhooks", "reseal")
	if err != nil || !strings.Contains(out, "checked 2 hmac secrets: 1 resealed with the current key, 1 already sealed with it") ||
		!strings.Contains(out, "can be emptied") {
		t.Fatalf("reseal: %v\n%s", err, out)
	}
	accepted(s2, oldPath, "right after the reseal, on the running instance")
	out, err = runM9M(t, cliEnv(k1), "webhooks", "reseal")
	if err != nil || !regexp.MustCompile(`checked 2 hmac secrets: 0 resealed`).MatchString(out) {
		t.Fatalf("second reseal (re-run): %v\n%s", err, out)
	}
	s2.Stop(t)

	s3 := harness.Start(t, withKeys(k2))
	accepted(s3, oldPath, "K2 alone after the reseal (the K1 secret)")
	accepted(s3, newPath, "K2 alone after the reseal (the K2 secret)")
	for _, logs := range []string{s3.Logs()} {
		if strings.Contains(logs, secret) || strings.Contains(logs, k1) || strings.Contains(logs, k2) {
			t.Fatal("a webhook secret or key reached the logs")
		}
	}
}
