package postgres

import (
	"net/url"
	"testing"
)

func TestWithPassword(t *testing.T) {
	t.Parallel()
	const pw = "p@ss w'rd\\x"
	for _, c := range []struct{ dsn, want string }{
		{"postgres://app@db:5432/m9m?sslmode=disable", "postgres://app:" + url.UserPassword("", pw).String()[1:] + "@db:5432/m9m?sslmode=disable"},
		{"postgres://app:own@db/m9m", "postgres://app:own@db/m9m"},
		{"host=db user=app dbname=m9m", `host=db user=app dbname=m9m password='p@ss w\'rd\\x'`},
		{"host=db password=own dbname=m9m", "host=db password=own dbname=m9m"},
	} {
		if got := withPassword(c.dsn, pw); got != c.want {
			t.Errorf("withPassword(%q) = %q, want %q", c.dsn, got, c.want)
		}
	}
	if got := withPassword("postgres://app@db/m9m", ""); got != "postgres://app@db/m9m" {
		t.Errorf("no password changed the DSN: %q", got)
	}
	// The URL form round-trips to the password.
	u, err := url.Parse(withPassword("postgres://app@db/m9m", pw))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := u.User.Password(); got != pw || u.User.Username() != "app" {
		t.Errorf("parsed back: user %q password %q", u.User.Username(), got)
	}
}

func TestDatabaseName(t *testing.T) {
	t.Parallel()
	for dsn, want := range map[string]string{
		"postgres://u:secret@h:5432/shop?sslmode=disable": "shop",
		"postgres://u@h":                 "m9m",
		"host=h dbname=orders user=u":    "orders",
		"host=h dbname='orders2' user=u": "orders2",
	} {
		if got := databaseName(dsn); got != want {
			t.Errorf("databaseName(%q) = %q, want %q", dsn, got, want)
		}
	}
}
