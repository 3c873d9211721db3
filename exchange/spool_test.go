package exchange

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSpoolRemoveStale: the partial files a crash left behind go once they
// are old enough; payloads, fresh partial files (a write in progress) and
// whatever else the directory holds stay.
func TestSpoolRemoveStale(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := OpenSpool(dir)
	require.NoError(t, err)
	payload, _, err := s.Write("m1.in", strings.NewReader("payload"))
	require.NoError(t, err)
	now := time.Now()
	files := map[string]time.Duration{ // name → age
		".m2.in.123.partial":  2 * time.Hour, // a killed receiver's
		".m3.out.456.partial": 2 * time.Hour, // a killed sender's
		".m4.in.789.partial":  time.Minute,   // being written
		"m5.in":               3 * time.Hour, // a payload, however old
		".hidden":             3 * time.Hour, // not the spool's
		"notes.partial":       3 * time.Hour, // not a temporary name
	}
	for name, age := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(strings.Repeat("x", 10)), 0o600))
		require.NoError(t, os.Chtimes(p, now.Add(-age), now.Add(-age)))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".d.partial"), 0o700))

	n, size, err := s.RemoveStale(time.Hour, now)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, int64(20), size)
	for name := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		stale := strings.HasPrefix(name, ".m2") || strings.HasPrefix(name, ".m3")
		assert.Equal(t, stale, errors.Is(err, os.ErrNotExist), name)
	}
	assert.FileExists(t, payload)
	assert.DirExists(t, filepath.Join(dir, ".d.partial"))

	n, size, err = s.RemoveStale(time.Hour, now)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing more")
	assert.Zero(t, size)

	require.NoError(t, os.RemoveAll(dir))
	_, _, err = s.RemoveStale(time.Hour, now)
	assert.ErrorContains(t, err, "exchange: spool")
}

// Two writes under one name (one message delivered twice at once) get a
// file each, so that neither replaces the other's bytes.
func TestSpoolWriteFileOfItsOwn(t *testing.T) {
	t.Parallel()
	s, err := OpenSpool(t.TempDir())
	require.NoError(t, err)
	a, _, err := s.Write("m1.in", strings.NewReader("first"))
	require.NoError(t, err)
	b, _, err := s.Write("m1.in", strings.NewReader("second"))
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	for path, want := range map[string]string{a: "first", b: "second"} {
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, want, string(got))
		require.True(t, strings.HasPrefix(filepath.Base(path), "m1.") && strings.HasSuffix(path, ".in"), "named after its message: %s", path)
	}
}
