package exchange

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Spool is a directory of payloads, written durably: each file is written
// under a temporary name, synced, renamed into place and its directory
// synced, so that a payload a store row names survives a crash.
type Spool struct {
	dir string
}

// OpenSpool opens (creating, mode 0700) a spool directory.
func OpenSpool(dir string) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("exchange: spool: %w", err)
	}
	return &Spool{dir: dir}, nil
}

// Write streams r into a new file of the spool named after name (a
// message id and a suffix, no directories: ID.in becomes ID.RANDOM.in)
// and returns its path and size. Every write has a file of its own, so
// that two deliveries of one message id at once never replace the file a
// store row names, and a write that is not stored removes only its own
// file. When reading r fails, as a payload reader does when the bytes
// differ from the envelope, nothing is left behind.
func (s *Spool) Write(name string, r io.Reader) (string, int64, error) {
	if filepath.Base(name) != name || name == "." || name == ".." {
		return "", 0, fmt.Errorf("exchange: spool name %q has directories", name)
	}
	f, err := os.CreateTemp(s.dir, "."+name+".*"+partialSuffix)
	if err != nil {
		return "", 0, err
	}
	n, err := io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", 0, err
	}
	var unique [6]byte
	if _, err := rand.Read(unique[:]); err != nil {
		os.Remove(f.Name())
		return "", 0, err
	}
	ext := filepath.Ext(name)
	path := filepath.Join(s.dir, strings.TrimSuffix(name, ext)+"."+hex.EncodeToString(unique[:])+ext)
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return "", 0, err
	}
	if d, err := os.Open(s.dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return "", 0, err
		}
	}
	return path, n, nil
}

// partialSuffix ends the temporary name of a file being written, which
// also starts with a dot.
const partialSuffix = ".partial"

// RemoveStale removes the partial files that writes cut short by a crash
// left behind (Write removes its partial file when it fails, but a killed
// process cannot): those not modified for at least age before now. A write
// in progress keeps its file's modification time fresh; one that stalled
// for longer than age then fails at its rename, and its message is
// retried. It returns how many files it removed and how many bytes they
// held; an error names the file it could not remove, after trying the
// others.
func (s *Spool) RemoveStale(age time.Duration, now time.Time) (int, int64, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, 0, fmt.Errorf("exchange: spool: %w", err)
	}
	var n int
	var size int64
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, ".") || !strings.HasSuffix(name, partialSuffix) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // its write finished or failed meanwhile
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("exchange: spool: %w", err))
			continue
		}
		if now.Sub(info.ModTime()) < age {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("exchange: spool: removing a stale partial file: %w", err))
			continue
		}
		n++
		size += info.Size()
	}
	return n, size, errors.Join(errs...)
}
