package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestAPIKeyStore(t *testing.T) {
	db := testenv.DB(t)
	porttest.APIKeyStore(t, func(*testing.T) porttest.APIKeyStores {
		keys := postgres.NewAPIKeyStore(db)
		return porttest.APIKeyStores{Keys: keys, Auth: keys, Users: postgres.NewUserStore(db)}
	})
}

// TestAPIKeyLookupUsesTheDigestIndex pins the request path's cost: the
// digest lookup is an index scan, never a sequential scan of api_keys.
func TestAPIKeyLookupUsesTheDigestIndex(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	var plan []string
	err := db.SelectContext(ctx, &plan, `EXPLAIN (COSTS OFF) `+postgres.SelectKeyGrant, strings.Repeat("a", 64))
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(plan, "\n")
	// With enable_seqscan on and tiny tables the planner may still pick an
	// index for an equality on a unique column; force the question.
	if !strings.Contains(joined, "api_keys_digest_key") {
		tx := db.MustBeginTx(ctx, nil)
		defer func() { _ = tx.Rollback() }()
		tx.MustExecContext(ctx, "SET LOCAL enable_seqscan = off")
		plan = nil
		if err := tx.SelectContext(ctx, &plan, `EXPLAIN (COSTS OFF) `+postgres.SelectKeyGrant, strings.Repeat("a", 64)); err != nil {
			t.Fatal(err)
		}
		joined = strings.Join(plan, "\n")
	}
	if !strings.Contains(joined, "api_keys_digest_key") {
		t.Fatalf("digest lookup does not use the unique index:\n%s", joined)
	}
}

// TestAPIKeyTableHoldsNoUsableKey dumps the table the way an attacker with
// a backup would and checks that no stored value is, or parses as, a key.
func TestAPIKeyTableHoldsNoUsableKey(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	users, keys := postgres.NewUserStore(db), postgres.NewAPIKeyStore(db)
	owner := newUser(domain.NewID())
	if err := users.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	secret := "m9m_sk_AbCdEfGhIjKlMnOpQrStUvWxYz012345" + apikey.Checksum("AbCdEfGhIjKlMnOpQrStUvWxYz012345")
	tok, err := apikey.Parse(secret)
	if err != nil {
		t.Fatal(err)
	}
	k := apikey.Key{
		ID: domain.NewID(), OwnerID: owner.ID, Name: "dump", Prefix: tok.DisplayPrefix(), Digest: tok.Digest(),
		Scopes: []user.Permission{user.PermWorkflowsRead}, CreatedAt: time.Now(),
	}
	if err := keys.Create(ctx, k, 0); err != nil {
		t.Fatal(err)
	}
	dump := dumpTable(t, db, "api_keys")
	if strings.Contains(dump, secret) || strings.Contains(dump, secret[len(tok.DisplayPrefix()):]) {
		t.Fatalf("the table dump contains the key:\n%s", dump)
	}
	for _, field := range strings.Fields(dump) {
		if _, err := apikey.Parse(field); err == nil {
			t.Fatalf("the table dump contains a usable key: %s", field)
		}
	}
}

// dumpTable renders every row of table as text, like a plain SQL dump.
func dumpTable(t *testing.T, db *sqlx.DB, table string) string {
	t.Helper()
	var rows []string
	if err := db.Select(&rows, `SELECT t::text FROM `+table+` t`); err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(strings.Join(rows, "\n"), ",", " ")
}

func TestAPIKeyStoreUnreachableIsUnavailable(t *testing.T) {
	ctx := context.Background()
	db, err := sqlx.Open("postgres", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s := postgres.NewAPIKeyStore(db)
	checks := map[string]error{}
	checks["Create"] = s.Create(ctx, apikey.Key{ID: "x", OwnerID: "y"}, 1)
	_, checks["Get"] = s.Get(ctx, "x")
	_, _, checks["ListByOwner"] = s.ListByOwner(ctx, "y", time.Now(), "", 10)
	_, checks["Update"] = s.Update(ctx, "x", func(*apikey.Key) error { return nil })
	_, checks["Rotate"] = s.Rotate(ctx, "x", apikey.Key{}, 0, func(*apikey.Key) error { return nil })
	_, checks["GetByDigest"] = s.GetByDigest(ctx, "d")
	checks["TouchLastUsed"] = s.TouchLastUsed(ctx, map[string]time.Time{"x": time.Now()})
	for name, err := range checks {
		if !errors.Is(err, domain.ErrUnavailable) {
			t.Errorf("%s = %v, want ErrUnavailable", name, err)
		}
	}
}
