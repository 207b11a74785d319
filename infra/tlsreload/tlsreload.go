// Package tlsreload serves a TLS certificate that can be replaced on disk
// without a restart: certificates are renewed every few weeks (ACME,
// cert-manager), and restarting every instance for that would drop
// connections. The files are re-read when they change (checked at most once
// per CheckInterval, during handshakes) and on SIGHUP.
package tlsreload

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/m9m/auth/port"
)

// CheckInterval bounds how often a handshake looks at the files' metadata,
// so a busy server does not stat them on every connection.
const CheckInterval = 5 * time.Second

// Reloader holds the current certificate and replaces it when its files
// change. A replacement that does not load (a half-written file, a key that
// does not match) is logged and the previous certificate stays in service.
type Reloader struct {
	certFile, keyFile string
	clock             port.Clock
	log               *zap.Logger

	cert      atomic.Pointer[tls.Certificate]
	nextCheck atomic.Int64 // unix nanos of the next allowed stat
	mu        sync.Mutex   // one reload at a time
	stamp     [2]fileStamp

	stop chan struct{}
	done chan struct{}
}

// fileStamp identifies a version of a file without reading it. A renamed
// symlink (Kubernetes secrets) changes it too, because Stat follows links.
type fileStamp struct {
	mod  time.Time
	size int64
}

// New loads the pair once; a pair that does not load is an error, so a bad
// configuration stops the server at start.
func New(certFile, keyFile string, clock port.Clock, log *zap.Logger) (*Reloader, error) {
	if log == nil {
		log = zap.NewNop()
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile, clock: clock, log: log}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Config is a server TLS configuration serving the current certificate,
// refusing any version below minVersion.
func (r *Reloader) Config(minVersion uint16) *tls.Config {
	return &tls.Config{
		MinVersion:     minVersion,
		GetCertificate: r.GetCertificate,
	}
}

// GetCertificate returns the current certificate, first picking up changed
// files if the last check is older than CheckInterval. A handshake never
// waits on another handshake's reload: it gets the current certificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	now := r.clock.Now().UnixNano()
	if next := r.nextCheck.Load(); now >= next && r.nextCheck.CompareAndSwap(next, now+int64(CheckInterval)) {
		if r.mu.TryLock() {
			r.reloadIfChanged()
			r.mu.Unlock()
		}
	}
	return r.cert.Load(), nil
}

// Reload re-reads the files now, whether or not they changed.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, err := r.stat()
	if err != nil {
		return err
	}
	return r.load(st)
}

func (r *Reloader) reloadIfChanged() {
	st, err := r.stat()
	if err != nil {
		r.log.Warn("tls: cannot stat certificate files; keeping the current certificate", zap.Error(err))
		return
	}
	if st == r.stamp {
		return
	}
	if err := r.load(st); err != nil {
		r.log.Warn("tls: changed certificate does not load; keeping the current one", zap.Error(err))
	}
}

func (r *Reloader) stat() ([2]fileStamp, error) {
	var st [2]fileStamp
	for i, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return st, fmt.Errorf("server.tls: %w", err)
		}
		st[i] = fileStamp{mod: fi.ModTime(), size: fi.Size()}
	}
	return st, nil
}

// load must be called with mu held.
func (r *Reloader) load(st [2]fileStamp) error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("server.tls: load certificate: %w", err)
	}
	r.cert.Store(&cert)
	r.stamp = st
	if cert.Leaf != nil {
		r.log.Info("tls: certificate loaded",
			zap.String("subject", cert.Leaf.Subject.String()),
			zap.String("serial", cert.Leaf.SerialNumber.String()),
			zap.Time("not_after", cert.Leaf.NotAfter))
	}
	return nil
}

// Start reloads on SIGHUP until Stop (the operator's "reload now", e.g.
// from a renewal hook). It never blocks.
func (r *Reloader) Start(context.Context) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.done)
		defer signal.Stop(sig)
		for {
			select {
			case <-r.stop:
				return
			case <-sig:
				if err := r.Reload(); err != nil {
					r.log.Warn("tls: reload on SIGHUP failed; keeping the current certificate", zap.Error(err))
				}
			}
		}
	}()
	return nil
}

// Stop ends the SIGHUP watch.
func (r *Reloader) Stop(context.Context) error {
	if r.stop != nil {
		close(r.stop)
		<-r.done
		r.stop = nil
	}
	return nil
}
