package deadline_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/egovkit/egovkit/deadline"
	"github.com/egovkit/egovkit/deadline/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) func() deadline.Store {
		s := deadline.NewMemStore()
		return func() deadline.Store { return s }
	})
}

func TestMonitorUpdatesAndCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cal := deadline.China()
	loc := cal.Location()
	rule := &deadline.Rule{Name: "许可", Legal: deadline.WD(20), MaxExtension: deadline.WD(10), Ladder: deadline.DefaultLadder(deadline.WD(3), deadline.WD(5))}
	start := time.Date(2025, 3, 3, 10, 0, 0, 0, loc)
	newClock := func(id, dept string) *deadline.Clock {
		c, err := deadline.Rebuild(id, dept, rule, cal, []deadline.Event{{Kind: deadline.EventStarted, At: start}})
		require.NoError(t, err)
		return c
	}
	m := deadline.NewMonitor(deadline.NewMemStore(), nil)
	a, b, c := newClock("a", "公安局"), newClock("b", "公安局"), newClock("c", "税务局")
	for _, k := range []*deadline.Clock{a, b, c} {
		require.NoError(t, m.Track(k, start))
	}
	next, ok := m.Next()
	require.True(t, ok)
	assert.Equal(t, time.Date(2025, 3, 26, 0, 0, 0, 0, loc), next.In(loc))

	cards, err := m.Tick(ctx, time.Date(2025, 3, 25, 12, 0, 0, 0, loc))
	require.NoError(t, err)
	assert.Empty(t, cards)
	cards, err = m.Tick(ctx, time.Date(2025, 3, 26, 0, 0, 0, 0, loc))
	require.NoError(t, err)
	assert.Len(t, cards, 3)

	// b is extended by 10 working days, c finishes: no yellow for either.
	require.NoError(t, b.Apply(deadline.Event{Kind: deadline.EventExtended, At: time.Date(2025, 3, 27, 9, 0, 0, 0, loc), By: deadline.WD(10), Reason: "需要现场核查", Approver: "局长"}))
	require.NoError(t, m.Track(b, time.Date(2025, 3, 27, 9, 0, 0, 0, loc)))
	require.NoError(t, c.Apply(deadline.Event{Kind: deadline.EventFinished, At: time.Date(2025, 3, 28, 9, 0, 0, 0, loc)}))
	require.NoError(t, m.Track(c, time.Date(2025, 3, 28, 9, 0, 0, 0, loc)))
	cards, err = m.Tick(ctx, time.Date(2025, 4, 1, 0, 0, 0, 0, loc))
	require.NoError(t, err)
	require.Len(t, cards, 1)
	assert.Equal(t, "a", cards[0].ClockID)
	assert.Equal(t, deadline.LevelYellow, cards[0].Level)
	assert.Equal(t, deadline.MustDate(2025, 3, 31), cards[0].Due)
	assert.Equal(t, []deadline.DepartmentCounts{
		{Department: "公安局", Open: 2, Warning: 1, Yellow: 1},
	}, m.Counts())
	assert.Equal(t, 2, m.Len())
	require.NoError(t, m.Remove("a"))
	require.ErrorIs(t, m.Remove("a"), deadline.ErrUnknownClock)
	assert.Equal(t, []deadline.DepartmentCounts{{Department: "公安局", Open: 1, Warning: 1}}, m.Counts())
}

// TestMonitorTickWorkIsProportional tracks many clocks of which few are due
// and checks that a tick evaluates only those.
func TestMonitorTickWorkIsProportional(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cal := deadline.China()
	loc := cal.Location()
	rule := &deadline.Rule{Name: "许可", Legal: deadline.WD(20)}
	m := deadline.NewMonitor(deadline.NewMemStore(), nil)
	base := time.Date(2025, 1, 6, 9, 0, 0, 0, loc)
	for i := 0; i < 5000; i++ {
		start := base.AddDate(0, 0, i%300)
		c, err := deadline.Rebuild(fmt.Sprint(i), "d", rule, cal, []deadline.Event{{Kind: deadline.EventStarted, At: start}})
		require.NoError(t, err)
		require.NoError(t, m.Track(c, start))
	}
	now := time.Date(2025, 6, 2, 1, 0, 0, 0, loc)
	_, err := m.Tick(ctx, now)
	require.NoError(t, err)
	before := deadline.MonitorEvaluations(m)
	cards, err := m.Tick(ctx, now.AddDate(0, 0, 1))
	require.NoError(t, err)
	evals := deadline.MonitorEvaluations(m) - before
	assert.NotEmpty(t, cards)
	assert.LessOrEqual(t, evals, int64(len(cards)), "a tick evaluates only clocks that change")
}

// TestMonitorConcurrent tracks, ticks and counts from many goroutines on
// one monitor under -race; every card is still issued once.
func TestMonitorConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cal := deadline.China()
	loc := cal.Location()
	rule := &deadline.Rule{Name: "许可", Legal: deadline.WD(5), Ladder: deadline.DefaultLadder(deadline.WD(1), deadline.WD(2))}
	m := deadline.NewMonitor(deadline.NewMemStore(), nil)
	start := time.Date(2025, 5, 6, 9, 0, 0, 0, loc)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	for g := 0; g < 8; g++ {
		wg.Add(2)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				c, err := deadline.Rebuild(fmt.Sprintf("g%d-%d", g, i), fmt.Sprintf("dept-%d", g%3), rule, cal,
					[]deadline.Event{{Kind: deadline.EventStarted, At: start}})
				if err == nil {
					err = m.Track(c, start)
				}
				// Go on mutating the caller's clock while ticks run: the
				// monitor holds its own copy.
				if err == nil {
					err = c.Apply(deadline.Event{Kind: deadline.EventSuspended, At: start.Add(time.Hour), Reason: deadline.ReasonCorrection})
				}
				if err == nil {
					err = c.Apply(deadline.Event{Kind: deadline.EventResumed, At: start.Add(2 * time.Hour)})
				}
				if err == nil {
					err = m.Track(c, start.Add(2*time.Hour))
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
		go func(g int) {
			defer wg.Done()
			for day := 0; day < 20; day++ {
				cards, err := m.Tick(ctx, start.AddDate(0, 0, day))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, c := range cards {
					seen[c.Key]++
				}
				mu.Unlock()
				_ = m.Counts()
			}
		}(g)
	}
	wg.Wait()
	// A final tick after everyone is tracked issues what is left.
	cards, err := m.Tick(ctx, start.AddDate(0, 1, 0))
	require.NoError(t, err)
	for _, c := range cards {
		seen[c.Key]++
	}
	assert.Len(t, seen, 8*50*3)
	for k, n := range seen {
		require.Equal(t, 1, n, k)
	}
}
