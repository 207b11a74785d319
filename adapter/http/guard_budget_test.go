package httpapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/authn"
)

// budgetServer's Bearer authenticator accepts "good" with the given budget
// already spent (as the gated JWT authenticator does), and refuses the rest.
func budgetServer(t *testing.T, budget *principal.RateBudget, lim port.RateLimiter) http.Handler {
	t.Helper()
	chain := &authn.Chain{Bearer: authn.AuthenticatorFunc(func(_ context.Context, c authn.Credential, _ principal.Client) (principal.Principal, error) {
		if c.Secret != "good" {
			return principal.Principal{}, domain.ErrUnauthenticated
		}
		return principal.Principal{
			UserID: "u1", Username: "u", Role: user.RoleViewer, Method: principal.MethodJWT,
			Permissions: []user.Permission{user.PermWorkflowsRead}, Budget: budget,
		}, nil
	})}
	routes := Routes{{
		Method: http.MethodGet, Path: "/api/v1/things", Permission: user.PermWorkflowsRead,
		Handler: func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{}) },
	}}
	srv, err := Build(Settings{}, zap.NewNop(), chain, lim, nil, nil, routes)
	if err != nil {
		t.Fatal(err)
	}
	return srv.Handler()
}

func TestGuardUsesTheBudgetTheAuthenticatorSpent(t *testing.T) {
	t.Parallel()
	allowed := &principal.RateBudget{Allowed: true, Limit: 60, Remaining: 7, ResetAfter: 3 * time.Second}
	denied := &principal.RateBudget{Limit: 60, ResetAfter: 8 * time.Second, RetryAfter: 2 * time.Second}
	tests := []struct {
		name       string
		budget     *principal.RateBudget
		limiter    bool
		token      string
		wantStatus int
		wantHdr    map[string]string
		wantKeys   []string // what the limiter was asked
	}{
		{"spent and allowed", allowed, true, "good", http.StatusOK,
			map[string]string{"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "3"}, nil},
		{"spent and denied: 429, not 401", denied, true, "good", http.StatusTooManyRequests,
			map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "8", "Retry-After": "2"}, nil},
		{"no budget: the limiter spends the principal's", nil, true, "good", http.StatusOK,
			map[string]string{"X-RateLimit-Remaining": "9"}, []string{"user:u1"}},
		{"refused token: the IP pays", allowed, true, "revoked", http.StatusUnauthorized,
			map[string]string{"X-RateLimit-Remaining": "9"}, []string{"ip:192.0.2.9"}},
		{"no budget, no limiter", nil, false, "good", http.StatusOK,
			map[string]string{"X-RateLimit-Limit": ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lim := &edgeLimiter{}
			var rl port.RateLimiter
			if tt.limiter {
				rl = lim
			}
			rec := edgeDo(budgetServer(t, tt.budget, rl), http.MethodGet, "/api/v1/things", "192.0.2.9:1234",
				map[string]string{"Authorization": "Bearer " + tt.token})
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			for k, v := range tt.wantHdr {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if got := lim.seen(); len(got) != len(tt.wantKeys) || (len(got) > 0 && got[0] != tt.wantKeys[0]) {
				t.Errorf("limiter asked about %v, want %v", got, tt.wantKeys)
			}
		})
	}
}
