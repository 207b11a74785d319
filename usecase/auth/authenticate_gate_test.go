package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/auth"
	"github.com/m9m/auth/usecase/authn"
)

// fakeGate judges revocation with the fixture's memory denylist and spends
// a budget it only records: the gate's own logic is tested on Redis.
type fakeGate struct {
	deny     port.TokenDenylist
	decision port.RateDecision
	err      error
	spent    []string
	calls    int
}

func (g *fakeGate) CheckAndSpend(ctx context.Context, c session.Claims, key string) (port.RateDecision, error) {
	g.calls++
	if g.err != nil {
		return port.RateDecision{}, g.err
	}
	if err := g.deny.Check(ctx, c); err != nil {
		return port.RateDecision{}, err
	}
	g.spent = append(g.spent, key)
	return g.decision, nil
}

// panickyDenylist stands behind a gate that must never be asked.
type panickyDenylist struct{ port.TokenDenylist }

func (panickyDenylist) Check(context.Context, session.Claims) error {
	panic("the gate was asked about an unverified credential")
}

func TestGatedAuthenticator(t *testing.T) {
	t.Parallel()
	allowed := port.RateDecision{Allowed: true, Limit: 60, Remaining: 4, ResetAfter: time.Second}
	denied := port.RateDecision{Allowed: false, Limit: 60, ResetAfter: 5 * time.Second, RetryAfter: time.Second}
	tests := []struct {
		name       string
		decision   port.RateDecision
		gateErr    error
		revoke     bool
		wantErr    error
		wantBudget *principal.RateBudget
	}{
		{"allowed", allowed, nil, false, nil, &principal.RateBudget{Allowed: true, Limit: 60, Remaining: 4, ResetAfter: time.Second}},
		{"over budget is still authenticated", denied, nil, false, nil, &principal.RateBudget{Limit: 60, ResetAfter: 5 * time.Second, RetryAfter: time.Second}},
		{"revoked", allowed, nil, true, domain.ErrUnauthenticated, nil},
		{"redis down", allowed, errDown, false, domain.ErrUnavailable, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			u := f.addUser(t, "alice", user.RoleEditor, goodPW)
			res := f.login(t, "alice", goodPW)
			if tt.revoke {
				if err := f.deny.DenySession(context.Background(), res.SessionID, f.clock.Now().Add(2*time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			gate := &fakeGate{deny: f.deny, decision: tt.decision, err: tt.gateErr}
			a := auth.NewGatedAuthenticator(f.tokens, gate)
			p, err := a.Authenticate(context.Background(), bearer(res.Token.Token), client)
			if tt.wantErr != nil {
				wantErr(t, err, tt.wantErr)
				if p.Budget != nil || len(gate.spent) != 0 {
					t.Fatalf("refused, yet budget %+v and spent %v", p.Budget, gate.spent)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.UserID != u.ID || p.Method != principal.MethodJWT {
				t.Fatalf("principal %+v", p)
			}
			if gate.calls != 1 || len(gate.spent) != 1 || gate.spent[0] != "user:"+u.ID {
				t.Fatalf("gate calls %d, spent %v; want one spend of user:%s", gate.calls, gate.spent, u.ID)
			}
			if p.Budget == nil || *p.Budget != *tt.wantBudget {
				t.Fatalf("budget %+v, want %+v", p.Budget, tt.wantBudget)
			}
		})
	}
}

// A credential that fails verification never reaches the gate: a stranger
// cannot spend anyone's budget.
func TestGatedAuthenticatorChecksTheTokenFirst(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	gate := &fakeGate{deny: panickyDenylist{}}
	a := auth.NewGatedAuthenticator(f.tokens, gate)
	for _, cred := range []authn.Credential{
		{Kind: authn.KindBearer, Secret: "a.b.c"},
		{Kind: authn.KindBearer},
		{Kind: authn.KindAPIKey, Secret: "m9m_sk_x"},
	} {
		if _, err := a.Authenticate(context.Background(), cred, client); err == nil {
			t.Fatalf("%v authenticated", cred.Kind)
		}
	}
	if gate.calls != 0 {
		t.Fatalf("the gate was asked %d times for unverified credentials", gate.calls)
	}
}

// The plain authenticator still checks the denylist and sets no budget.
func TestUngatedAuthenticatorSetsNoBudget(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "bob", user.RoleViewer, goodPW)
	if p := f.principal(t, f.login(t, "bob", goodPW).Token.Token); p.Budget != nil {
		t.Fatalf("budget %+v without a gate", p.Budget)
	}
}
