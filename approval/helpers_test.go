package approval

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/internal/strictjson"
)

// testClock is a clock that moves only when told.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func mustDef(t testing.TB, src string) *Definition {
	t.Helper()
	d, err := ParseDefinition(strings.NewReader(src))
	require.NoError(t, err)
	return d
}

func sampleDef(t testing.TB) *Definition {
	t.Helper()
	return mustDef(t, string(readFile(t, "testdata/annual-inspection.json")))
}

func app(t testing.TB, src string) map[string]any {
	t.Helper()
	tree, err := strictjson.Parse([]byte(src), strictjson.Limits{})
	require.NoError(t, err)
	return tree.(map[string]any)
}

// sampleDirectory holds the users of the annual-inspection sample.
func sampleDirectory() *MemoryDirectory {
	dir := &MemoryDirectory{}
	dir.AddRole("window-clerk", "clerk1", "clerk2")
	dir.AddRole("reviewer", "rev1")
	dir.AddRole("head", "head1")
	dir.AddRole("supervision-office", "sup1")
	dir.AddOrg("11500000MB16089308", "env1", "env2")
	dir.AddOrg("11500000MB1972360U", "fire1")
	return dir
}

// harness is an engine on a store with a test clock, and the case it
// drives.
type harness struct {
	t     *testing.T
	e     *Engine
	store Store
	clock *testClock
	dir   *MemoryDirectory
	def   *Definition
	id    string
	ctx   context.Context
	// states are the case's states after each successful command, by
	// version, for the replay test.
	states map[int]*Case
}

func newHarness(t *testing.T, def *Definition, store Store) *harness {
	t.Helper()
	if store == nil {
		store = NewMemoryStore()
	}
	h := &harness{t: t, store: store, clock: newTestClock(), dir: sampleDirectory(), def: def, ctx: context.Background(), states: map[int]*Case{}}
	e, err := New(Config{Store: store, Directory: h.dir, Clock: h.clock.Now}, def)
	require.NoError(t, err)
	h.e = e
	return h
}

const bigApp = `{"enterprise":"重庆某化工有限公司","orgId":"91500000MA5U7X3P0D","registeredCapital":20000000}`
const smallApp = `{"enterprise":"重庆某文具店","orgId":"91500000MA5U7X3P0D","registeredCapital":50000}`

func (h *harness) start(application string) *Case {
	h.t.Helper()
	r, err := h.e.Start(h.ctx, StartCommand{Definition: h.def.ID, Applicant: "alice", Application: app(h.t, application)})
	require.NoError(h.t, err)
	h.id = r.Case.ID
	h.states[r.Case.Version] = r.Case
	return r.Case
}

// do runs a command at the case's current version.
func (h *harness) do(cmd Command) (*Case, error) {
	h.t.Helper()
	c, err := h.e.Case(h.ctx, h.id)
	require.NoError(h.t, err)
	cmd.CaseID = h.id
	if cmd.ExpectedVersion == 0 {
		cmd.ExpectedVersion = c.Version
	}
	h.clock.Advance(time.Minute)
	r, err := h.e.Execute(h.ctx, cmd)
	if err != nil {
		after, err2 := h.e.Case(h.ctx, h.id)
		require.NoError(h.t, err2)
		require.Equal(h.t, c.Version, after.Version, "a refused command must change nothing")
		return nil, err
	}
	h.states[r.Case.Version] = r.Case
	return r.Case, nil
}

func (h *harness) must(cmd Command) *Case {
	h.t.Helper()
	c, err := h.do(cmd)
	require.NoError(h.t, err, "%s by %s", cmd.Kind, cmd.Actor)
	return c
}

func (h *harness) refused(rule string, cmd Command) {
	h.t.Helper()
	_, err := h.do(cmd)
	require.Error(h.t, err, "%s by %s", cmd.Kind, cmd.Actor)
	require.Equal(h.t, rule, RuleOf(err), "%v", err)
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	return data
}
