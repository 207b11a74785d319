package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Known work for the count check: what each counter must report for it.
const (
	checkStatements  = 200 // checkQuery in autocommit: one transaction each
	checkScriptCalls = 3   // redis.call()s inside one EVAL
	// earlyRead is the wait a naive reader would use.
	earlyRead = 1500 * time.Millisecond
)

// checkQuery reads a table, as every query of the server's hot paths does.
// A statement that reads none (SELECT 1) is a poor probe: a backend whose
// pending statistics hold no table counts skips its flush, so such
// transactions reach pg_stat_database only when a later one of that
// backend reads a table, or when it exits.
const checkQuery = "SELECT count(*) FROM pg_class"

// checkScript runs checkScriptCalls read-only commands on a key nobody uses.
const checkScript = "for i = 1, 3 do redis.call('EXISTS', KEYS[1]) end return 0"

// countCheckResult is what the count check measured.
type countCheckResult struct {
	infoDelta   int64 // two INFO reads in a row: the cost of one INFO
	scriptDelta int64 // around one EVAL, less one INFO
	pgEarly     int64 // statements visible earlyRead after the last one
	pgLate      int64 // visible after the settle
	redis, pg   bool  // which counters were checked
}

func (r countCheckResult) redisOK() bool {
	return r.infoDelta == infoCost && r.scriptDelta == 1+checkScriptCalls
}

// catchUpSlack is how many transactions above the known work the Postgres
// count may show: an idle backend that falls behind on other sessions'
// catalog changes (every CREATE, ALTER or DROP on the server: here, the
// other engineers' test databases and migrations) commits an empty
// transaction to catch up (sinval catch-up), and pg_stat_database counts
// it. Fewer than the known work is always wrong: counts were lost.
const catchUpSlack = 20

func (r countCheckResult) pgOK() bool {
	return r.pgLate >= checkStatements && r.pgLate <= checkStatements+catchUpSlack
}

func (r countCheckResult) ok() bool { return (!r.redis || r.redisOK()) && (!r.pg || r.pgOK()) }

// lines describes the check, one line per counter.
func (r countCheckResult) lines(settle time.Duration) []string {
	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "WRONG: the per-request counts below cannot be trusted (another client on this Redis or database?)"
	}
	var out []string
	if r.redis {
		out = append(out, fmt.Sprintf("Redis: INFO then INFO: +%d (want %d: an INFO counts itself in the next read); "+
			"one EVAL running %d redis.call(): +%d once that INFO is taken off (want %d: scripts' commands count too) — %s",
			r.infoDelta, infoCost, checkScriptCalls, r.scriptDelta, 1+checkScriptCalls, verdict(r.redisOK())))
	}
	if r.pg {
		extra := ""
		if d := r.pgLate - checkStatements; d > 0 && r.pgOK() {
			extra = fmt.Sprintf(" (+%d: empty transactions an idle backend commits to catch up with other sessions' catalog changes)", d)
		}
		out = append(out, fmt.Sprintf("Postgres: %d × %q in autocommit on one connection kept open: %d visible after %s, "+
			"%d after %s (want %d)%s — %s", checkStatements, checkQuery, r.pgEarly, earlyRead, r.pgLate, settle, checkStatements, extra, verdict(r.pgOK())))
	}
	return out
}

// countCheck runs work of a known count against each counter given (nil:
// not checked) and reads what they report. It must run while nothing else
// uses that Redis or database: before the server starts. dbURL is the
// counted database's own URL.
func countCheck(ctx context.Context, rc *redisCounter, pc *pgCounter, dbURL string, settle time.Duration) (countCheckResult, error) {
	var res countCheckResult
	if rc != nil {
		res.redis = true
		a, err := rc.commands()
		if err != nil {
			return res, err
		}
		b, err := rc.commands()
		if err != nil {
			return res, err
		}
		res.infoDelta = b - a
		if _, err := rc.do("EVAL", checkScript, "1", "m9m:bench:count-check:unused"); err != nil {
			return res, fmt.Errorf("redis EVAL: %w", err)
		}
		c, err := rc.commands()
		if err != nil {
			return res, err
		}
		res.scriptDelta = c - b - infoCost
	}
	if pc != nil {
		res.pg = true
		early, late, err := countStatements(ctx, pc, dbURL, settle)
		if err != nil {
			return res, err
		}
		res.pgEarly, res.pgLate = early, late
	}
	return res, nil
}

// countStatements runs checkStatements statements on one connection to the
// counted database and keeps it open and idle, as the server's pool keeps
// its own, reading the count earlyRead and settle after the last one.
func countStatements(ctx context.Context, pc *pgCounter, dbURL string, settle time.Duration) (early, late int64, err error) {
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = db.Close() }()
	conn, err := db.Conn(ctx) // connecting is a transaction too, flushed at once: before the first read
	if err != nil {
		return 0, 0, fmt.Errorf("connect to the counted database: %w", err)
	}
	defer func() { _ = conn.Close() }()
	before, err := pc.transactions(ctx)
	if err != nil {
		return 0, 0, err
	}
	for range checkStatements {
		if _, err := conn.ExecContext(ctx, checkQuery); err != nil {
			return 0, 0, err
		}
	}
	last := time.Now()
	if err := sleepCtx(ctx, earlyRead); err != nil {
		return 0, 0, err
	}
	if early, err = pc.transactions(ctx); err != nil {
		return 0, 0, err
	}
	if err := sleepCtx(ctx, time.Until(last.Add(settle))); err != nil {
		return 0, 0, err
	}
	if late, err = pc.transactions(ctx); err != nil {
		return 0, 0, err
	}
	return early - before, late - before, nil
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
