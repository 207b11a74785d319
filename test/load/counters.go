package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	_ "github.com/lib/pq" // Postgres driver, for pg_stat_database
)

// The bench counts what a request costs the shared stores from their own
// counters, not from the server's: Redis's INFO stats
// total_commands_processed (every command, those a Lua script runs
// included) and Postgres's pg_stat_database xact_commit + xact_rollback of
// the bench database (transactions: a statement in autocommit is one, a
// multi-statement transaction one in all).

// counterTimeout bounds one counter read.
const counterTimeout = 5 * time.Second

// redisCounter reads total_commands_processed over one connection of its
// own, speaking just enough RESP for INFO, so the only commands it adds to
// the count are its INFO calls (infoCost each; no HELLO, no CLIENT SETINFO,
// no PING on connect, unlike a client library).
type redisCounter struct {
	conn net.Conn
	r    *bufio.Reader
}

// infoCost is how many commands one INFO adds to total_commands_processed:
// it is counted once done, so a read does not see its own INFO but the next
// one does. The count check confirms it against the server.
const infoCost = 1

func dialRedisCounter(ctx context.Context, addr string) (*redisCounter, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("redis address %q: %w", addr, err)
	}
	if err := checkLoopbackHost(host); err != nil {
		return nil, err
	}
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, counterTimeout)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &redisCounter{conn: conn, r: bufio.NewReader(conn)}, nil
}

func (c *redisCounter) Close() error { return c.conn.Close() }

// do sends one command and returns its reply: the text of a simple string,
// error, integer or bulk string (arrays are not needed here).
func (c *redisCounter) do(args ...string) (string, error) {
	if err := c.conn.SetDeadline(time.Now().Add(counterTimeout)); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	return readReply(c.r)
}

// readReply reads one RESP2 reply that is not an array.
func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("redis: empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New("redis: " + line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 || n > 1<<20 {
			return "", fmt.Errorf("redis: bad bulk length %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	default:
		return "", fmt.Errorf("redis: unexpected reply type %q", line[0])
	}
}

// commands reads total_commands_processed.
func (c *redisCounter) commands() (int64, error) {
	info, err := c.do("INFO", "stats")
	if err != nil {
		return 0, err
	}
	return infoField(info, "total_commands_processed")
}

// infoField returns an integer field of an INFO answer.
func infoField(info, field string) (int64, error) {
	for _, line := range strings.Split(info, "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":")
		if ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("redis INFO has no %s", field)
}

// pgCounter reads the transactions of one database from pg_stat_database,
// over a connection to another database (the server's maintenance database,
// "postgres"), so its own reads are not counted.
type pgCounter struct {
	db   *sql.DB
	name string
}

// pgSettle is how long after a scenario the bench waits before reading
// pg_stat_database. A backend flushes its pending counts at the end of a
// transaction only if its last flush is at least 1 s old
// (PGSTAT_MIN_INTERVAL); one that goes idle with counts pending flushes them
// PGSTAT_IDLE_INTERVAL (10 s) later. So the last second of a scenario
// appears up to 10 s after it: pg_stat_force_next_flush() would only help
// the backend calling it, not the server's pool. The count check measures
// it (PostgreSQL 15 and later; earlier versions sent counts to a collector
// every 500 ms). That idle flush happens only when the pending counts
// include a table's: a transaction that read no table (SELECT 1, an
// advisory lock) stays pending until its backend's next flush or exit, so
// the server's hot-path queries, which all read tables, are counted on
// time, and such statements may be counted late.
const pgSettle = 11 * time.Second

// openPGCounter connects to the server of serverURL (its path is replaced
// by /postgres) to read the counts of database name.
func openPGCounter(ctx context.Context, serverURL, name string) (*pgCounter, error) {
	dsn, err := databaseURL(serverURL, "postgres")
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c := &pgCounter{db: db, name: name}
	if _, err := c.transactions(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return c, nil
}

func (c *pgCounter) Close() error { return c.db.Close() }

// transactions reads xact_commit + xact_rollback of the database. Each read
// is its own transaction, so stats_fetch_consistency's snapshot never
// serves an old value.
func (c *pgCounter) transactions(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, counterTimeout)
	defer cancel()
	var n sql.NullInt64
	err := c.db.QueryRowContext(ctx,
		`SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1`, c.name).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("pg_stat_database has no database %q", c.name)
	}
	if err != nil {
		return 0, fmt.Errorf("read pg_stat_database: %w", err)
	}
	return n.Int64, nil
}

// databaseURL returns serverURL pointed at database name, refusing any host
// that is not loopback. Errors never quote the URL (it may hold a password).
func databaseURL(serverURL, name string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", errors.New("the Postgres URL does not parse")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", errors.New("the Postgres URL must be postgres://")
	}
	if err := checkLoopbackHost(u.Hostname()); err != nil {
		return "", err
	}
	u.Path = "/" + name
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// checkLoopbackHost refuses a host that is not a loopback address.
func checkLoopbackHost(host string) error {
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return errors.New("refusing to reach a non-loopback address: " + host)
}
