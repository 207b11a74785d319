package tlsreload_test

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/infra/tlsreload"
	"github.com/m9m/auth/test/testenv"
)

// servedSerial handshakes with cfg and returns the serial of the served
// certificate (or the handshake error).
func servedSerial(t *testing.T, cfg *tls.Config, maxVersion uint16) (int64, error) {
	t.Helper()
	c, s := net.Pipe()
	defer func() { _ = c.Close() }()
	defer func() { _ = s.Close() }()
	srv := tls.Server(s, cfg)
	go func() { _ = srv.Handshake() }()
	cl := tls.Client(c, &tls.Config{InsecureSkipVerify: true, MaxVersion: maxVersion}) //nolint:gosec // test: the certificate is self-signed
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := cl.Handshake(); err != nil {
		return 0, err
	}
	return cl.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
}

func setup(t *testing.T) (certFile, keyFile string, clock *memory.Clock) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	testenv.WriteCertPair(t, certFile, keyFile, 1)
	return certFile, keyFile, memory.NewClock(time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC))
}

func TestReloadsChangedFilesAfterTheCheckInterval(t *testing.T) {
	t.Parallel()
	certFile, keyFile, clock := setup(t)
	r, err := tlsreload.New(certFile, keyFile, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := r.Config(tls.VersionTLS12)
	if got, err := servedSerial(t, cfg, 0); err != nil || got != 1 {
		t.Fatalf("first handshake: serial %d, %v", got, err)
	}
	testenv.WriteCertPair(t, certFile, keyFile, 2)
	clock.Advance(tlsreload.CheckInterval / 2)
	if got, _ := servedSerial(t, cfg, 0); got != 1 {
		t.Errorf("within the check interval: serial %d, want the old 1 (files are not read on every handshake)", got)
	}
	clock.Advance(tlsreload.CheckInterval)
	if got, err := servedSerial(t, cfg, 0); err != nil || got != 2 {
		t.Fatalf("after the check interval: serial %d, %v; want 2", got, err)
	}
}

func TestBrokenReplacementKeepsTheCurrentCertificate(t *testing.T) {
	t.Parallel()
	certFile, keyFile, clock := setup(t)
	r, err := tlsreload.New(certFile, keyFile, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := r.Config(tls.VersionTLS12)
	// A renewal caught half-way: a new key next to the old certificate.
	other := t.TempDir()
	testenv.WriteCertPair(t, filepath.Join(other, "c"), filepath.Join(other, "k"), 9)
	k, err := os.ReadFile(filepath.Join(other, "k"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, k, 0o600); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * tlsreload.CheckInterval)
	if got, err := servedSerial(t, cfg, 0); err != nil || got != 1 {
		t.Fatalf("with a mismatched pair on disk: serial %d, %v; want the old 1", got, err)
	}
	if err := r.Reload(); err == nil {
		t.Error("Reload of a mismatched pair: want an error")
	}
	// Once the renewal completes, the new pair is served.
	testenv.WriteCertPair(t, certFile, keyFile, 3)
	clock.Advance(2 * tlsreload.CheckInterval)
	if got, _ := servedSerial(t, cfg, 0); got != 3 {
		t.Errorf("after the renewal completed: serial %d, want 3", got)
	}
}

func TestRefusesOldTLSVersions(t *testing.T) {
	t.Parallel()
	certFile, keyFile, clock := setup(t)
	r, err := tlsreload.New(certFile, keyFile, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := servedSerial(t, r.Config(tls.VersionTLS12), tls.VersionTLS11); err == nil {
		t.Error("TLS 1.1 handshake succeeded with a 1.2 minimum")
	}
	if _, err := servedSerial(t, r.Config(tls.VersionTLS13), tls.VersionTLS12); err == nil {
		t.Error("TLS 1.2 handshake succeeded with a 1.3 minimum")
	}
	if _, err := servedSerial(t, r.Config(tls.VersionTLS12), tls.VersionTLS12); err != nil {
		t.Errorf("TLS 1.2 handshake: %v", err)
	}
}

func TestNewRefusesUnusableFiles(t *testing.T) {
	t.Parallel()
	certFile, keyFile, clock := setup(t)
	if _, err := tlsreload.New(certFile+".missing", keyFile, clock, nil); err == nil {
		t.Error("missing certificate accepted")
	}
	if _, err := tlsreload.New(keyFile, certFile, clock, nil); err == nil {
		t.Error("swapped cert and key accepted")
	}
}

// Not parallel: it signals the whole test process.
func TestReloadsOnSIGHUP(t *testing.T) {
	certFile, keyFile, clock := setup(t)
	r, err := tlsreload.New(certFile, keyFile, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Stop(context.Background()) }()
	cfg := r.Config(tls.VersionTLS12)
	// This handshake uses up the periodic check: the clock never moves
	// again, so from here on only the signal can cause a reload.
	if got, err := servedSerial(t, cfg, 0); err != nil || got != 1 {
		t.Fatalf("first handshake: serial %d, %v", got, err)
	}
	testenv.WriteCertPair(t, certFile, keyFile, 7)
	if got, _ := servedSerial(t, cfg, 0); got != 1 {
		t.Fatalf("reloaded without a signal or a check: serial %d", got)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := servedSerial(t, cfg, 0)
		if err == nil && got == 7 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reload: serial %d, %v", got, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
