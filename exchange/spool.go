package exchange

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// Write streams r into the spool as name (a message id and a suffix, no
// directories) and returns its path and size. When reading r fails, as a
// payload reader does when the bytes differ from the envelope, nothing is
// left behind.
func (s *Spool) Write(name string, r io.Reader) (string, int64, error) {
	if filepath.Base(name) != name || name == "." || name == ".." {
		return "", 0, fmt.Errorf("exchange: spool name %q has directories", name)
	}
	f, err := os.CreateTemp(s.dir, "."+name+".*.partial")
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
	path := filepath.Join(s.dir, name)
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
