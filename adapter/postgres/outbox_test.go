package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/adapter/crypto"
	"github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/domain"
	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
	"github.com/m9m/auth/usecase/apikey"
	"github.com/m9m/auth/usecase/users"
)

func TestInvalidationOutbox(t *testing.T) {
	db := testenv.DB(t)
	porttest.InvalidationOutbox(t, func(*testing.T) (port.InvalidationOutbox, porttest.OutboxWrite) {
		write := func(t *testing.T, age time.Duration, entries ...port.FeedEntry) {
			t.Helper()
			for _, e := range entries {
				if _, err := db.ExecContext(context.Background(), `INSERT INTO invalidation_outbox (key_id, owner_id, created_at)
					VALUES (NULLIF($1, ''), NULLIF($2, ''), now() - make_interval(secs => $3))`,
					e.KeyID, e.OwnerID, age.Seconds()); err != nil {
					t.Fatalf("write outbox row: %v", err)
				}
			}
		}
		return postgres.NewInvalidationOutbox(db), write
	})
}

// outboxRows returns the outbox rows naming id, as key or as owner.
func outboxRows(t *testing.T, db *sqlx.DB, id string) []port.FeedEntry {
	t.Helper()
	var rows []struct {
		KeyID   sql.NullString `db:"key_id"`
		OwnerID sql.NullString `db:"owner_id"`
	}
	if err := db.SelectContext(context.Background(), &rows,
		`SELECT key_id, owner_id FROM invalidation_outbox WHERE key_id = $1 OR owner_id = $1 ORDER BY id`, id); err != nil {
		t.Fatal(err)
	}
	out := make([]port.FeedEntry, len(rows))
	for i, r := range rows {
		out[i] = port.FeedEntry{KeyID: r.KeyID.String, OwnerID: r.OwnerID.String}
	}
	return out
}

func wantOutbox(t *testing.T, db *sqlx.DB, id string, want ...port.FeedEntry) {
	t.Helper()
	if got := outboxRows(t, db, id); !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
		t.Fatalf("outbox rows naming %s = %+v, want %+v", id, got, want)
	}
}

// passRevoker stands in for the session side of user administration.
type passRevoker struct{}

func (passRevoker) EndSessionsAround(ctx context.Context, _, _ string, change func(context.Context) error) error {
	return change(ctx)
}
func (passRevoker) CutOff(context.Context, string) error { return nil }

type outboxFixture struct {
	db    *sqlx.DB
	users *postgres.UserStore
	keys  *postgres.APIKeyStore
	keySv *apikey.Service
	userS *users.Service
	admin principal.Principal
}

func newOutboxFixture(t *testing.T) *outboxFixture {
	db := testenv.DB(t)
	f := &outboxFixture{db: db, users: postgres.NewUserStore(db), keys: postgres.NewAPIKeyStore(db)}
	clock := fixedClock{}
	f.keySv = apikey.New(apikey.Deps{Keys: f.keys, Users: f.users, Generate: crypto.NewAPIKey, Clock: clock}, apikey.Settings{})
	f.userS = users.New(users.Deps{
		Users: f.users, Lister: f.users, Remover: postgres.NewUserRemover(db), Revoker: passRevoker{}, Keys: f.keys, Clock: clock,
	})
	f.admin = principal.Principal{UserID: domain.NewID(), Username: "admin", Role: user.RoleAdmin, Method: principal.MethodJWT, Permissions: user.RoleAdmin.Permissions()}
	return f
}

type fixedClock struct{}

func (fixedClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func (f *outboxFixture) user(t *testing.T) (*user.User, principal.Principal) {
	t.Helper()
	u := newUser(domain.NewID())
	if err := f.users.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u, principal.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, Method: principal.MethodJWT, Permissions: u.Role.Permissions()}
}

func (f *outboxFixture) key(t *testing.T, p principal.Principal) ak.Key {
	t.Helper()
	issued, err := f.keySv.Create(context.Background(), p, principal.Client{}, apikey.CreateInput{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	wantOutbox(t, f.db, issued.Key.ID) // a new key owes no invalidation
	return issued.Key
}

// TestAuditedKeyChangesWriteTheirOutboxRows drives the real use cases over
// Postgres: each committed change that alters a grant leaves exactly its
// row, written by its own transaction.
func TestAuditedKeyChangesWriteTheirOutboxRows(t *testing.T) {
	ctx := context.Background()
	f := newOutboxFixture(t)

	u, p := f.user(t)
	revoked := f.key(t, p)
	if err := f.keySv.Revoke(ctx, p, principal.Client{}, revoked.ID); err != nil {
		t.Fatal(err)
	}
	wantOutbox(t, f.db, revoked.ID, port.FeedEntry{KeyID: revoked.ID})
	wantOutbox(t, f.db, u.ID) // a key's revocation names the key, not every key of its owner

	rotated := f.key(t, p)
	successor, err := f.keySv.Rotate(ctx, p, principal.Client{}, rotated.ID, apikey.RotateInput{GraceSeconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	wantOutbox(t, f.db, rotated.ID, port.FeedEntry{KeyID: rotated.ID})
	wantOutbox(t, f.db, successor.Key.ID)

	// A refused change (a second rotation of the same key: 409) writes none.
	_, err = f.keySv.Rotate(ctx, p, principal.Client{}, rotated.ID, apikey.RotateInput{})
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("second rotation = %v, want 409", err)
	}
	wantOutbox(t, f.db, rotated.ID, port.FeedEntry{KeyID: rotated.ID})

	// Revoke-credentials revokes (and audits) key by key: one row per key.
	cut, cp := f.user(t)
	k1, k2 := f.key(t, cp), f.key(t, cp)
	if _, err := f.userS.RevokeCredentials(ctx, f.admin, principal.Client{}, cut.ID); err != nil {
		t.Fatal(err)
	}
	wantOutbox(t, f.db, k1.ID, port.FeedEntry{KeyID: k1.ID})
	wantOutbox(t, f.db, k2.ID, port.FeedEntry{KeyID: k2.ID})

	demoted, _ := f.user(t)
	if _, err := f.userS.Update(ctx, f.admin, principal.Client{}, demoted.ID, users.UpdateInput{Role: new(string(user.RoleViewer))}); err != nil {
		t.Fatal(err)
	}
	wantOutbox(t, f.db, demoted.ID, port.FeedEntry{OwnerID: demoted.ID})

	leaver, lp := f.user(t)
	f.key(t, lp)
	if err := f.userS.Delete(ctx, f.admin, principal.Client{}, leaver.ID, users.DeleteInput{}); err != nil {
		t.Fatal(err)
	}
	wantOutbox(t, f.db, leaver.ID, port.FeedEntry{OwnerID: leaver.ID})
}

// TestOutboxRowRollsBackWithItsChange fails a key revocation's transaction
// at its commit, after its statements (the key's update, its audit event
// and its outbox row) all ran: a deferred trigger raises for that one key.
// Nothing of it may remain.
func TestOutboxRowRollsBackWithItsChange(t *testing.T) {
	ctx := context.Background()
	f := newOutboxFixture(t)
	_, p := f.user(t)
	k := f.key(t, p)
	name := "outbox_test_" + domain.NewID()[:12]
	for _, stmt := range []string{
		`CREATE FUNCTION ` + name + `() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.key_id = '` + k.ID + `' THEN RAISE EXCEPTION 'failing this commit on purpose'; END IF;
			RETURN NULL;
		END $$`,
		`CREATE CONSTRAINT TRIGGER ` + name + ` AFTER INSERT ON invalidation_outbox
		DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ` + name + `()`,
	} {
		if _, err := f.db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = f.db.ExecContext(context.Background(), `DROP TRIGGER IF EXISTS `+name+` ON invalidation_outbox`)
		_, _ = f.db.ExecContext(context.Background(), `DROP FUNCTION IF EXISTS `+name+`()`)
	})

	err := f.keySv.Revoke(ctx, p, principal.Client{}, k.ID)
	if err == nil {
		t.Fatal("the revocation committed; the trigger should have failed its commit")
	}
	wantOutbox(t, f.db, k.ID)
	stored, err := f.keys.Get(ctx, k.ID)
	if err != nil || stored.RevokedAt != nil {
		t.Fatalf("key after the failed transaction: %+v, %v; want it unrevoked", stored, err)
	}
	var events int
	if err := f.db.GetContext(ctx, &events, `SELECT count(*) FROM audit_events WHERE target_id = $1 AND action = $2`,
		k.ID, string(audit.ActionAPIKeyRevoke)); err != nil {
		t.Fatal(err)
	}
	if events != 0 {
		t.Fatalf("%d revoke events stored by a failed transaction, want 0", events)
	}

	// A refusal inside the change (fn's error) writes nothing either.
	_, err = f.keys.Update(ctx, k.ID, func(*ak.Key) error { return domain.ErrConflict }, audit.Event{
		ID: domain.NewID(), Time: time.Now(), Action: audit.ActionAPIKeyRevoke, TargetType: "api_key", TargetID: k.ID, Outcome: audit.OutcomeSuccess,
	})
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("Update = %v, want fn's error", err)
	}
	wantOutbox(t, f.db, k.ID)
}

// TestAuditWriterBatchesWriteNoOutboxRows: the audit writer's events are
// recorded after the fact, outside any change; denied attempts and the
// after-the-fact revoke-credentials summary owe no invalidation.
func TestAuditWriterBatchesWriteNoOutboxRows(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	id := domain.NewID()
	err := postgres.NewAuditStore(db).Insert(ctx, []audit.Event{
		{ID: domain.NewID(), Time: time.Now(), Action: audit.ActionUserRevokeCredentials, TargetType: "user", TargetID: id, Outcome: audit.OutcomeSuccess},
		{ID: domain.NewID(), Time: time.Now(), Action: audit.ActionAPIKeyRevoke, TargetType: "api_key", TargetID: id, Outcome: audit.OutcomeDenied},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantOutbox(t, db, id)
}
