package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFileName is the lock file a running server holds in its data dir.
const lockFileName = "hotdesk.lock"

// ErrDataDirLocked means another process serves from the data directory.
var ErrDataDirLocked = errors.New("data directory in use")

// dataDirLock is an exclusive flock(2) on DATA/hotdesk.lock, held for the
// life of a server (and by `hotdesk restore`), so two processes never share
// one data directory and its SQLite database. The kernel drops the lock
// when the process dies, so a crash never leaves a stale lock behind.
type dataDirLock struct{ f *os.File }

// lockDataDir takes the data directory's lock or says who holds it.
func lockDataDir(dir string) (*dataDirLock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: lock: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid := strings.TrimSpace(string(b)); pid != "" {
				holder = " (pid " + pid + ")"
			}
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			abs, _ := filepath.Abs(dir)
			return nil, fmt.Errorf("%w: another hotdesk process%s is using the data directory %s (lock file %s); stop it first, or give this one its own --data",
				ErrDataDirLocked, holder, abs, filepath.Join(abs, lockFileName))
		}
		return nil, fmt.Errorf("data dir %s: lock: %w", dir, err)
	}
	// The pid is for the message above only; the lock is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dataDirLock{f: f}, nil
}

// release drops the lock (the file stays: removing it would race with a
// process that just opened it).
func (l *dataDirLock) release() {
	if l != nil && l.f != nil {
		_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		l.f.Close()
		l.f = nil
	}
}
