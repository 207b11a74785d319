package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/m9m/auth/domain"
)

func TestTranslate(t *testing.T) {
	t.Parallel()
	pqErr := func(code string) error {
		return fmt.Errorf("exec: %w", &pq.Error{Code: pqerror.Code(code), Message: "m"})
	}
	closure := errors.New("closure")
	tests := []struct {
		name string
		in   error
		want error // nil: translate(in) must be nil
	}{
		{"nil", nil, nil},
		{"no rows", sql.ErrNoRows, domain.ErrNotFound},
		{"wrapped no rows", fmt.Errorf("get: %w", sql.ErrNoRows), domain.ErrNotFound},
		{"unique violation", pqErr("23505"), domain.ErrConflict},
		{"foreign key violation", pqErr("23503"), domain.ErrConflict},
		{"connection failure", pqErr("08006"), domain.ErrUnavailable},
		{"too many connections", pqErr("53300"), domain.ErrUnavailable},
		{"admin shutdown", pqErr("57P01"), domain.ErrUnavailable},
		{"cannot connect now", pqErr("57P03"), domain.ErrUnavailable},
		{"bad password", pqErr("28P01"), domain.ErrUnavailable},
		{"no such database", pqErr("3D000"), domain.ErrUnavailable},
		{"serialization failure", pqErr("40001"), domain.ErrUnavailable},
		{"deadlock", pqErr("40P01"), domain.ErrUnavailable},
		{"syntax error", pqErr("42601"), domain.ErrInternal},
		{"check violation", pqErr("23514"), domain.ErrInternal},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, domain.ErrUnavailable},
		{"bad conn", driver.ErrBadConn, domain.ErrUnavailable},
		{"conn done", sql.ErrConnDone, domain.ErrUnavailable},
		{"eof", io.ErrUnexpectedEOF, domain.ErrUnavailable},
		{"deadline", context.DeadlineExceeded, domain.ErrUnavailable},
		{"canceled", context.Canceled, domain.ErrUnavailable},
		{"unknown", errors.New("boom"), domain.ErrInternal},
		{"domain error passes through", domain.ErrForbidden.Wrap(closure), domain.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := translate(tt.in)
			if tt.want == nil {
				if got != nil {
					t.Fatalf("translate(nil) = %v", got)
				}
				return
			}
			if !errors.Is(got, tt.want) {
				t.Fatalf("translate(%v) = %v, want %v", tt.in, got, tt.want)
			}
			if !errors.Is(got, tt.in) {
				t.Fatalf("translate(%v) lost the cause: %v", tt.in, got)
			}
			if m := domain.As(got).Message; m != "" && tt.in != nil && (strings.Contains(m, "pq:") || strings.Contains(m, "exec")) {
				t.Fatalf("client message leaks internals: %q", m)
			}
		})
	}
}

func TestCursorRoundTripAndMalformed(t *testing.T) {
	t.Parallel()
	k := pageKey{ID: "abc"}
	got, err := decodeCursor(encodeCursor(k))
	if err != nil || got.ID != k.ID {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	for _, c := range []string{"", "!!", "bm90LWpzb24", "e30", "eyJ0IjoxfQ"} {
		if _, err := decodeCursor(c); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("decodeCursor(%q) = %v, want ErrInvalid", c, err)
		}
	}
}
