package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestUserStore(t *testing.T) {
	db := testenv.DB(t)
	porttest.UserStore(t, func(*testing.T) (port.UserStore, port.UserLister) {
		s := postgres.NewUserStore(db)
		return s, s
	})
}

func TestSessionStore(t *testing.T) {
	db := testenv.DB(t)
	users := postgres.NewUserStore(db)
	porttest.SessionStore(t, func(t *testing.T) (porttest.Sessions, func(string)) {
		seed := func(id string) {
			t.Helper()
			if err := users.Create(context.Background(), newUser(id)); err != nil {
				t.Fatalf("seed user %s: %v", id, err)
			}
		}
		return postgres.NewSessionStore(db), seed
	})
}

func TestKnownClientSource(t *testing.T) {
	db := testenv.DB(t)
	porttest.KnownClientSource(t, func(*testing.T) (port.KnownClientSource, port.UserStore, port.SessionStore) {
		return postgres.NewKnownClientSource(db), postgres.NewUserStore(db), postgres.NewSessionStore(db)
	})
}

func newUser(id string) *user.User {
	now := time.Now().UTC()
	return &user.User{
		ID:           id,
		Username:     "seed-" + domain.NewID()[:16],
		Role:         user.RoleEditor,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA",
		CreatedAt:    now,
		UpdatedAt:    now,
	}
}

func TestDeletingAUserDeletesItsSessions(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	u := newUser(domain.NewID())
	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	s := session.Session{ID: domain.NewID(), UserID: u.ID, CreatedAt: u.CreatedAt, LastRefreshedAt: u.CreatedAt}
	if err := sessions.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := users.Delete(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.Get(ctx, s.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("session of a deleted user: Get = %v, want ErrNotFound", err)
	}
}

func TestSessionOfUnknownUserIsAConflict(t *testing.T) {
	db := testenv.DB(t)
	s := session.Session{ID: domain.NewID(), UserID: domain.NewID(), CreatedAt: time.Now(), LastRefreshedAt: time.Now()}
	err := postgres.NewSessionStore(db).Create(context.Background(), s)
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("Create = %v, want ErrConflict (foreign key)", err)
	}
}

func TestTimesComeBackInUTCAtMicrosecondPrecision(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	users := postgres.NewUserStore(db)
	u := newUser(domain.NewID())
	u.CreatedAt = time.Date(2026, 1, 27, 11, 0, 0, 123456789, time.FixedZone("CET", 3600))
	u.UpdatedAt = u.CreatedAt
	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := users.Get(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 1, 27, 10, 0, 0, 123457000, time.UTC)
	if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt = %v (%v), want %v in UTC", got.CreatedAt, got.CreatedAt.Location(), want)
	}
}

func TestMigrationsAreAppliedAndIdempotent(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	// testenv has migrated already: running again must be a no-op, even from
	// several instances at once (the advisory lock serializes them).
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = postgres.Migrate(ctx, db.DB) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	st, err := postgres.MigrationStatus(ctx, db.DB)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) < 2 {
		t.Fatalf("%d migrations, want at least 2", len(st))
	}
	for i, s := range st {
		if s.State != goose.StateApplied {
			t.Errorf("migration %s is %s", s.Source.Path, s.State)
		}
		if s.Source.Version != int64(i+1) {
			t.Errorf("migration %d has version %d: keep the numbering gap-free", i, s.Source.Version)
		}
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("the migrator closed the pool: %v", err)
	}
}

func TestMigrationsGoDownAndUpAgain(t *testing.T) {
	// A private database, so the round trip does not disturb other tests.
	ctx := context.Background()
	db := privateDB(t)
	p, err := postgres.NewMigrator(db.DB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("down: %v", err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
}

// privateDB creates an empty database for this test only and drops it after.
func privateDB(t *testing.T) *sqlx.DB {
	t.Helper()
	ctx := context.Background()
	admin := testenv.DB(t)
	name := "m9m_mig_" + domain.NewID()[:12]
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	dsn := testenv.DatabaseURL(t)
	u, err := urlWithDB(dsn, name)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlx.Open("postgres", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	ctx := context.Background()
	db, err := sqlx.Open("postgres", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	checks := map[string]error{}
	_, checks["Get"] = users.Get(ctx, "x")
	_, checks["GetByUsername"] = users.GetByUsername(ctx, "x")
	checks["Create"] = users.Create(ctx, newUser(domain.NewID()))
	_, checks["Update"] = users.Update(ctx, "x", func(*user.User) error { return nil })
	checks["Delete"] = users.Delete(ctx, "x")
	_, _, checks["List"] = users.List(ctx, "", 10)
	_, checks["Count"] = users.Count(ctx)
	_, checks["SessionGet"] = sessions.Get(ctx, "x")
	checks["Touch"] = sessions.Touch(ctx, "x", time.Now())
	_, checks["EndAllForUser"] = sessions.EndAllForUser(ctx, "x", "", time.Now())
	for name, err := range checks {
		if !errors.Is(err, domain.ErrUnavailable) {
			t.Errorf("%s = %v, want ErrUnavailable", name, err)
		}
	}
}

// urlWithDB returns dsn pointing at database name instead.
func urlWithDB(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func TestRevocationRecord(t *testing.T) {
	db := testenv.DB(t)
	porttest.RevocationRecord(t, func(*testing.T) (port.RevocationRecord, func() port.RevocationRecord) {
		return postgres.NewRevocationRecord(db), func() port.RevocationRecord { return postgres.NewRevocationRecord(db) }
	})
}
