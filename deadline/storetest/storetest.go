// Package storetest is the conformance suite that every [deadline.Store]
// passes: the in-memory store, SQLite and PostgreSQL run the same tests.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) func() deadline.Store { ... })
//	}
package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/egovkit/egovkit/deadline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Harness prepares empty storage for one test and returns a function that
// opens a store on it. Calling open again opens the same storage anew, as a
// restarted process would; the harness closes what it opened when the test
// ends (t.Cleanup).
type Harness func(t *testing.T) (open func() deadline.Store)

// Run runs the conformance suite against the stores h opens.
func Run(t *testing.T, h Harness) {
	t.Run("RecordOnce", func(t *testing.T) { recordOnce(t, h(t)) })
	t.Run("ConcurrentRecord", func(t *testing.T) { concurrentRecord(t, h(t)) })
	t.Run("SurvivesReopen", func(t *testing.T) { survivesReopen(t, h(t)) })
	t.Run("MonitorRestart", func(t *testing.T) { monitorRestart(t, h(t)) })
}

func card(clock string, level deadline.Level) deadline.Card {
	loc := deadline.Shanghai()
	return deadline.Card{
		Key: deadline.CardKey(clock, level), ClockID: clock, Department: "市场监管局", Level: level,
		Watch: deadline.WatchLegal, Step: "审查", Due: deadline.MustDate(2025, 3, 31),
		FiredAt:  time.Date(2025, 4, 1, 0, 0, 0, 0, loc),
		IssuedAt: time.Date(2025, 4, 1, 8, 30, 0, 123456789, loc),
	}
}

func sameCard(t *testing.T, want, got deadline.Card) {
	t.Helper()
	assert.True(t, want.FiredAt.Equal(got.FiredAt), "FiredAt %s != %s", want.FiredAt, got.FiredAt)
	assert.True(t, want.IssuedAt.Equal(got.IssuedAt), "IssuedAt %s != %s", want.IssuedAt, got.IssuedAt)
	want.FiredAt, want.IssuedAt, got.FiredAt, got.IssuedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	assert.Equal(t, want, got)
}

func recordOnce(t *testing.T, open func() deadline.Store) {
	ctx := context.Background()
	s := open()
	c := card("case-1", deadline.LevelYellow)
	fresh, err := s.RecordCard(ctx, c)
	require.NoError(t, err)
	assert.True(t, fresh)
	again := c
	again.IssuedAt = c.IssuedAt.Add(time.Hour)
	fresh, err = s.RecordCard(ctx, again)
	require.NoError(t, err)
	assert.False(t, fresh, "a second card with the same key is not new")
	_, err = s.RecordCard(ctx, card("case-1", deadline.LevelWarning))
	require.NoError(t, err)
	got, err := s.Cards(ctx, "case-1")
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, deadline.LevelWarning, got[0].Level, "ordered by level")
	sameCard(t, c, got[1])
	none, err := s.Cards(ctx, "no-such-case")
	require.NoError(t, err)
	assert.Empty(t, none)
}

func concurrentRecord(t *testing.T, open func() deadline.Store) {
	ctx := context.Background()
	s := open()
	var wins atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fresh, err := s.RecordCard(ctx, card("race", deadline.LevelRed))
			if err != nil {
				errs <- err
				return
			}
			if fresh {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, int32(1), wins.Load(), "exactly one concurrent record is new")
}

func survivesReopen(t *testing.T, open func() deadline.Store) {
	ctx := context.Background()
	c := card("case-2", deadline.LevelRed)
	fresh, err := open().RecordCard(ctx, c)
	require.NoError(t, err)
	require.True(t, fresh)
	s := open()
	fresh, err = s.RecordCard(ctx, c)
	require.NoError(t, err)
	assert.False(t, fresh)
	got, err := s.Cards(ctx, "case-2")
	require.NoError(t, err)
	require.Len(t, got, 1)
	sameCard(t, c, got[0])
}

// monitorRestart runs a monitor over a quarter, restarts it half way on a
// reopened store and checks that every card is issued exactly once.
func monitorRestart(t *testing.T, open func() deadline.Store) {
	ctx := context.Background()
	cal := deadline.China()
	rule := &deadline.Rule{Name: "许可", Legal: deadline.WD(20), Ladder: deadline.DefaultLadder(deadline.WD(3), deadline.WD(5))}
	loc := cal.Location()
	var clocks []*deadline.Clock
	for i := 0; i < 40; i++ {
		start := time.Date(2025, 3, 1+i%20, 9+i%8, 0, 0, 0, loc)
		c, err := deadline.Rebuild(fmt.Sprintf("case-%02d", i), fmt.Sprintf("dept-%d", i%3), rule, cal,
			[]deadline.Event{{Kind: deadline.EventStarted, At: start}})
		require.NoError(t, err)
		clocks = append(clocks, c)
	}
	begin := time.Date(2025, 3, 21, 0, 0, 0, 0, loc)
	newMonitor := func(now time.Time) *deadline.Monitor {
		m := deadline.NewMonitor(open(), nil)
		for _, c := range clocks {
			require.NoError(t, m.Track(c, now))
		}
		return m
	}
	seen := map[string]int{}
	m := newMonitor(begin)
	for day := 0; day < 60; day++ {
		now := begin.AddDate(0, 0, day).Add(6 * time.Hour)
		if day == 30 {
			m = newMonitor(now) // restart: a new process on the same storage
		}
		cards, err := m.Tick(ctx, now)
		require.NoError(t, err)
		for _, c := range cards {
			seen[c.Key]++
			assert.False(t, c.FiredAt.After(now))
		}
	}
	// Every clock passed warning, yellow and red by the end, once each.
	assert.Len(t, seen, 3*len(clocks))
	for k, n := range seen {
		assert.Equal(t, 1, n, k)
	}
	total := 0
	for _, dc := range m.Counts() {
		assert.Equal(t, dc.Open, dc.Red)
		total += dc.Open
	}
	assert.Equal(t, len(clocks), total)
}
