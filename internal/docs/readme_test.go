package docs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// TestREADMEPrograms runs every ```go block of README.md that is a whole
// program (package main) and fails if one does not build or exits non-zero.
// Fragments are not allowed: a sample a reader cannot run is a sample that
// can rot.
func TestREADMEPrograms(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	blocks := goBlock.FindAllStringSubmatch(string(data), -1)
	require.NotEmpty(t, blocks, "README.md has Go samples")
	for i, b := range blocks {
		src := b[1]
		require.True(t, strings.HasPrefix(src, "package main\n"), "README Go sample %d is not a whole program (package main)", i+1)
		t.Run("sample", func(t *testing.T) {
			// Inside the module, so that its imports resolve; the leading
			// dot keeps it out of ./... patterns.
			dir, err := os.MkdirTemp(".", ".readme-")
			require.NoError(t, err)
			defer os.RemoveAll(dir)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, "go", "run", "./"+dir).CombinedOutput()
			require.NoError(t, err, "README Go sample %d:\n%s", i+1, out)
			t.Logf("sample %d:\n%s", i+1, out)
		})
	}
}
