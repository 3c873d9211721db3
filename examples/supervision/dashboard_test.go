package main

import (
	"bytes"
	"context"
	"flag"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/dashboard.png")

// chromium finds the browser, or skips the test where none is installed;
// .ci/run installs Debian's chromium and sets EGOVKIT_REQUIRE_BROWSER so
// that CI never skips it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("EGOVKIT_REQUIRE_BROWSER") != "" {
		t.Fatal("no chromium on PATH, and EGOVKIT_REQUIRE_BROWSER is set")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); CI runs this test")
	return ""
}

// browse runs headless Chromium with the flags that work on these machines
// and returns what it printed.
func browse(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
		"--no-first-run", "--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", stderr.String())
	return out
}

var cellRE = regexp.MustCompile(`(?s)<td data-col="([a-z-]+)"[^>]*>(\d+)</td>`)

// TestDashboardInBrowser renders the dashboard in a real browser half way
// through the quarter and checks that every department's cards on the page
// are the monitor's counts.
func TestDashboardInBrowser(t *testing.T) {
	bin := chromium(t)
	s, err := newSimulation(context.Background(), t.TempDir())
	require.NoError(t, err)
	defer s.store.Close()
	d := newDashboard(s)
	require.NoError(t, d.advance(61)) // to 2025-05-31, after the restart
	srv := httptest.NewServer(d)
	defer srv.Close()

	dom := string(browse(t, bin, "--dump-dom", srv.URL+"/"))
	assert.Contains(t, dom, `<strong id="today">2025-05-31</strong>`)
	counts := map[string]map[string]int{}
	for _, c := range s.monitor.Counts() {
		counts[c.Department] = map[string]int{"open": c.Open, "warning": c.Warning, "yellow": c.Yellow, "red": c.Red}
	}
	require.Len(t, counts, 6)
	yellowOrRed := 0
	for dept, want := range counts {
		row := regexp.MustCompile(`(?s)<tr data-dept="` + regexp.QuoteMeta(dept) + `">(.*?)</tr>`).FindStringSubmatch(dom)
		require.NotNil(t, row, "no row for %s on the page", dept)
		got := map[string]int{}
		for _, m := range cellRE.FindAllStringSubmatch(row[1], -1) {
			n, _ := strconv.Atoi(m[2])
			got[m[1]] = n
		}
		for _, col := range []string{"open", "warning", "yellow", "red"} {
			assert.Equal(t, want[col], got[col], "%s %s", dept, col)
		}
		yellowOrRed += want["yellow"] + want["red"]
	}
	assert.Positive(t, yellowOrRed, "half way through the quarter some cases are overdue")
	assert.Equal(t, yellowOrRed, len(regexp.MustCompile(`<tr data-case="`).FindAllString(dom, -1)), "every overdue case is listed with its history")

	shot := filepath.Join(t.TempDir(), "dashboard.png")
	if *update {
		shot, err = filepath.Abs(filepath.Join("testdata", "dashboard.png"))
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(shot), 0o755))
	}
	browse(t, bin, "--window-size=1280,1600", "--hide-scrollbars", "--screenshot="+shot, srv.URL+"/")
	png, err := os.ReadFile(shot)
	require.NoError(t, err)
	require.Greater(t, len(png), 1000)
	assert.Equal(t, []byte("\x89PNG"), png[:4])
}

// TestDashboardAdvances checks the page's controls and JSON without a
// browser.
func TestDashboardAdvances(t *testing.T) {
	t.Parallel()
	s, err := newSimulation(context.Background(), t.TempDir())
	require.NoError(t, err)
	defer s.store.Close()
	srv := httptest.NewServer(newDashboard(s))
	defer srv.Close()
	resp, err := srv.Client().PostForm(srv.URL+"/advance", map[string][]string{"days": {"10"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode) // after the redirect to the page
	assert.Equal(t, "2025-04-10", s.today().String())
	resp, err = srv.Client().PostForm(srv.URL+"/advance", map[string][]string{"days": {"x"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)
	resp, err = srv.Client().Get(srv.URL + "/api/counts")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	resp, err = srv.Client().Get(srv.URL + "/nope")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode)
}
