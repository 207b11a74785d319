package sqlite

import (
	"errors"
	"fmt"
	"os"
)

// ErrLocked is returned by Lock when another process holds the file.
var ErrLocked = errors.New("sqlite: the database file is in use by another m9m process")

// FileLock is the exclusive, advisory lock of one database file, held in a
// sidecar file (PATH.lock) so SQLite's own locks on the file are untouched.
// The operating system releases it when the process exits, however it
// exits (SIGKILL included), so a crash never leaves a stale lock behind.
type FileLock struct {
	f    *os.File
	path string
}

// Lock takes the exclusive lock of the database file at path without
// waiting: when another process holds it, it returns an error naming the
// file that wraps ErrLocked.
func Lock(path string) (*FileLock, error) {
	lockPath := path + ".lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600) //nolint:gosec // path is the operator's database.url
	if err != nil {
		return nil, fmt.Errorf("sqlite: open lock file %s: %w", lockPath, err)
	}
	if err := lockFile(f); err != nil {
		_ = f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("%w: %s (is `m9m serve` running on it? stop it first)", ErrLocked, path)
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", lockPath, err)
	}
	return &FileLock{f: f, path: path}, nil
}

// Unlock releases the lock (idempotent).
func (l *FileLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := errors.Join(unlockFile(l.f), l.f.Close())
	l.f = nil
	return err
}
