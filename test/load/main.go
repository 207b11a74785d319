// Command load drives a running m9m instance on loopback at a fixed
// concurrency for a fixed time per scenario and prints one table:
// scenario, req/s, p50, p99, errors, peak RSS, and each scenario's ratio to
// GET /health from the same run, followed by the targets (met or
// missed). It also measures, in this process and at the login scenario's
// concurrency, the throughput of the password hash alone with the server's
// default parameters: the ceiling login can reach, so login is judged
// against the hash rather than against /health.
//
// It is bounded: every loop stops at its scenario's deadline, every request
// carries a context that ends shortly after it, and a watchdog exits the
// process after -max-time whatever happens. It refuses any target that is
// not a loopback address.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

var (
	base      = flag.String("url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	duration  = flag.Duration("duration", 5*time.Second, "time per scenario")
	conc      = flag.Int("c", 32, "concurrent connections")
	loginConc = flag.Int("login-c", 64, "concurrent connections for the login flood")
	pid       = flag.Int("pid", 0, "server pid, to read its peak RSS from /proc")
	username  = flag.String("user", "admin", "login username")
	password  = flag.String("password", "", "login password (or M9M_LOAD_PASSWORD)")
	only      = flag.String("only", "", "comma-separated scenario names to run (default all; names contain no commas)")
	maxTime   = flag.Duration("max-time", 5*time.Minute, "hard limit for the whole run; the process exits with status 3 after it")
	rounds    = flag.Int("rounds", 5, "split each scenario's -duration into this many slices, run round-robin across scenarios")
	burst     = flag.Int("key-burst", 0, "after the scenarios, create this many API keys at once (-c connections) and report p99 and errors")
	skip      = flag.String("skip", "", "comma-separated scenario names not to run (those the -wrk table measures, say)")
)

// requestGrace is how long a request may run past its scenario's deadline
// before its context ends it.
const requestGrace = 5 * time.Second

func main() {
	flag.Parse()
	if *password == "" {
		*password = os.Getenv("M9M_LOAD_PASSWORD")
	}
	if err := checkLoopback(*base); err != nil {
		fail(2, err)
	}
	if *duration <= 0 || *conc < 1 || *loginConc < 1 || *rounds < 1 {
		fail(2, errors.New("-duration, -c, -login-c and -rounds must be positive"))
	}
	watchdog := time.AfterFunc(*maxTime, func() {
		fmt.Fprintf(os.Stderr, "load: stopped by -max-time %s\n", *maxTime)
		scratchCleanup()
		os.Exit(3)
	})
	defer watchdog.Stop()
	httpClient = newClient()

	ctx, cancel := context.WithTimeout(context.Background(), *maxTime)
	defer cancel()
	if *countMode || *wrkMode {
		run := runWrkMode
		if *countMode {
			run = runCountCheck
		}
		code := runInterruptible(ctx, run)
		cancel()
		os.Exit(code)
	}
	fx, err := prepare(ctx)
	if err != nil {
		fail(1, err)
	}
	fmt.Println(fx.describe())
	results := runAll(ctx, without(scenarios(fx), names(*skip)), names(*only))
	printTable(results)
	printTargets(results)
	if *burst > 0 {
		keyBurst(ctx, fx.adminToken, *burst, *conc)
	}
	for _, r := range results {
		if r.errs > 0 {
			os.Exit(1)
		}
	}
}

// fail prints err and exits with code.
func fail(code int, err error) {
	fmt.Fprintln(os.Stderr, "load:", err)
	os.Exit(code)
}

// names returns the set of a comma-separated list of scenario names.
func names(list string) map[string]bool {
	set := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			set[n] = true
		}
	}
	return set
}

// without returns the scenarios not named in skip.
func without(all []scenario, skip map[string]bool) []scenario {
	var out []scenario
	for _, sc := range all {
		if !skip[sc.name] {
			out = append(out, sc)
		}
	}
	return out
}

func newClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil, // loopback only: never through a proxy
			MaxIdleConnsPerHost: 256,
			MaxConnsPerHost:     256,
			IdleConnTimeout:     30 * time.Second,
		},
	}
}

func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("-url must be http:// or https://")
	}
	return checkLoopbackHost(u.Hostname())
}
