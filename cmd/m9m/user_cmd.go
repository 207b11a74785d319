package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	pgadapter "github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/cmd/m9m/app"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/infra/postgres"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/users"
)

type userCreateFlags struct {
	username      string
	password      string
	passwordStdin bool
	role          string
}

func newUserCmd(flags *rootFlags) *cobra.Command {
	cmd := groupCmd("user", "Manage users")
	var f userCreateFlags
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a user (prints its id, username and role)",
		Long: "Create a user directly in the database, e.g. the first admin.\n" +
			"Prefer --password-stdin: a --password value is visible to other local users in the process list and lands in shell history.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUserCreate(cmd, flags, f)
		},
	}
	create.Flags().StringVar(&f.username, "username", "", "username: 3-64 characters of a-z 0-9 . _ - (required)")
	create.Flags().StringVar(&f.password, "password", "", "password, 8-1024 characters (or --password-stdin)")
	create.Flags().BoolVar(&f.passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	create.Flags().StringVar(&f.role, "role", "", "admin, editor or viewer (required)")
	_ = create.MarkFlagRequired("username")
	_ = create.MarkFlagRequired("role")
	create.MarkFlagsMutuallyExclusive("password", "password-stdin")
	create.MarkFlagsOneRequired("password", "password-stdin")
	cmd.AddCommand(create)
	return cmd
}

func runUserCreate(cmd *cobra.Command, flags *rootFlags, f userCreateFlags) error {
	password := f.password
	if f.passwordStdin {
		var err error
		if password, err = readPasswordLine(cmd.InOrStdin()); err != nil {
			return err
		}
	}
	cfg, err := flags.load(append(databaseSections, "security.password_hash")...)
	if err != nil {
		return err
	}
	db, err := postgres.Open(cfg.Database, cfg.Performance.ConnectionPool)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
	defer cancel()
	if err := postgres.Ping(ctx, db, cfg.Database); err != nil {
		return err
	}
	if cfg.Database.AutoMigrate {
		n, err := pgadapter.MigrateUp(ctx, db.DB)
		if err != nil {
			return fmt.Errorf("apply migrations: %w", err)
		}
		if n > 0 {
			_, _ = fmt.Fprintf(cmd.ErrOrStderr(), "applied %d pending migration(s) first (database.auto_migrate is true)\n", n)
		}
	}
	store := pgadapter.NewUserStore(db)
	auditLog := &syncAudit{store: pgadapter.NewAuditStore(db)}
	svc := users.New(users.Deps{
		Users: store, Lister: store, Hasher: app.NewPasswordHasher(cfg.Security.PasswordHash),
		Audit: auditLog, Clock: app.SystemClock{},
	})
	actor := principal.Principal{Username: "m9m user create"}
	u, err := svc.Create(ctx, actor, principal.Client{}, users.CreateInput{Username: f.username, Password: password, Role: f.role})
	if err != nil {
		return describeCreateError(err)
	}
	if auditLog.err != nil {
		_, _ = fmt.Fprintf(cmd.ErrOrStderr(), "warning: user created, but its audit event was not written: %v\n", auditLog.err)
	}
	if u.Username != f.username {
		_, _ = fmt.Fprintf(cmd.ErrOrStderr(), "note: username %q was normalised to %q\n", f.username, u.Username)
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "created user\nid:       %s\nusername: %s\nrole:     %s\n", u.ID, u.Username, u.Role)
	return err
}

// syncAudit writes each audit event at once. The server queues events off
// the request path; a one-shot command has no request path to protect, and
// must not exit before its event is written.
type syncAudit struct {
	store port.AuditStore
	err   error
}

// Record inserts e, keeping the first error for the caller to report.
func (a *syncAudit) Record(ctx context.Context, e audit.Event) {
	if err := a.store.Insert(ctx, []audit.Event{e}); err != nil && a.err == nil {
		a.err = err
	}
}

// readPasswordLine reads one line, without its line ending.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// describeCreateError turns a use-case error into a message for a terminal:
// each invalid field with why. Messages never contain the password.
func describeCreateError(err error) error {
	var de *domain.Error
	if !errors.As(err, &de) {
		return err
	}
	if len(de.Details) == 0 {
		if de.Kind == domain.KindInternal || de.Kind == domain.KindUnavailable {
			return fmt.Errorf("create user: %w", err)
		}
		return fmt.Errorf("create user: %s", de.Message)
	}
	parts := make([]string, 0, len(de.Details))
	for _, d := range de.Details {
		parts = append(parts, "--"+d.Field+" "+d.Message)
	}
	return fmt.Errorf("create user: %s", strings.Join(parts, "; "))
}
