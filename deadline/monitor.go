package deadline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Card is a supervision card event (亮牌记录): a warning (预警), a yellow
// card (黄牌) or a red card (红牌) for one case. A case gets at most one card
// per level: Key, the clock id and the level, is its idempotency key.
type Card struct {
	// Key is ClockID + "#" + Level, unique per clock and level.
	Key        string
	ClockID    string
	Department string
	Level      Level
	// Watch and Step name the limit the rung watched.
	Watch Watch
	Step  string
	// Due is the watched limit's due date.
	Due Date
	// FiredAt is when the rung's condition was met.
	FiredAt time.Time
	// IssuedAt is the monitor tick that issued the card.
	IssuedAt time.Time
}

// CardKey returns the idempotency key of clockID's card at level.
func CardKey(clockID string, level Level) string { return clockID + "#" + level.String() }

// Store keeps issued cards so that each is issued exactly once, across
// restarts and across monitors sharing the store. Implementations: [MemStore]
// here, SQLite and PostgreSQL in package deadline/sqlstore; all pass the
// conformance suite in deadline/storetest.
type Store interface {
	// RecordCard stores card unless a card with its Key is stored, and
	// reports whether it stored it. It is atomic: of concurrent calls with
	// one key exactly one reports true.
	RecordCard(ctx context.Context, card Card) (bool, error)
	// Cards returns the stored cards of a clock, ordered by level.
	Cards(ctx context.Context, clockID string) ([]Card, error)
}

// MemStore is a Store in memory, for tests and single-process use. The zero
// value is ready; it is safe for concurrent use.
type MemStore struct {
	mu    sync.Mutex
	cards map[string]Card
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{} }

// RecordCard implements Store.
func (s *MemStore) RecordCard(_ context.Context, card Card) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cards[card.Key]; ok {
		return false, nil
	}
	if s.cards == nil {
		s.cards = map[string]Card{}
	}
	s.cards[card.Key] = card
	return true, nil
}

// Cards implements Store.
func (s *MemStore) Cards(_ context.Context, clockID string) ([]Card, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Card
	for l := LevelWarning; l <= LevelRed; l++ {
		if c, ok := s.cards[CardKey(clockID, l)]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// DepartmentCounts are a department's open cases by level (监察统计).
type DepartmentCounts struct {
	Department string
	// Open counts unfinished cases; Warning, Yellow and Red count those of
	// them whose highest card is of that level.
	Open, Warning, Yellow, Red int
}

// ClockError reports a clock the monitor could not evaluate; the clock is
// left out of the index until it is tracked again.
type ClockError struct {
	ClockID string
	Err     error
}

// Error implements error.
func (e *ClockError) Error() string {
	return "deadline: monitor: clock " + strconv.Quote(e.ClockID) + ": " + e.Err.Error()
}

// Unwrap returns the clock's error.
func (e *ClockError) Unwrap() error { return e.Err }

const never = math.MaxInt64

// entry is one tracked clock. Entries live in a slice and are indexed by a
// 4-ary min-heap of slots ordered by next.
type entry struct {
	clock  *Clock
	next   int64 // unix nanoseconds of the next transition, never if none
	heap   int32 // position in the heap, -1 when not in it
	dept   int32
	issued uint8 // bit l set: the level-l card is issued
}

// Monitor is the electronic supervisor (电子监察): it holds many clocks,
// indexed by their next transition time in a 4-ary min-heap, and on each
// [Monitor.Tick] issues the cards whose time has come, exactly once per
// clock and level thanks to its [Store]. A tick costs O(k log n) for k
// transitions among n clocks. A Monitor is safe for concurrent use.
type Monitor struct {
	mu     sync.Mutex
	store  Store
	log    *slog.Logger
	slots  []entry
	free   []int32
	ids    map[string]int32
	heap   []heapItem
	depts  []string
	deptIx map[string]int32
	counts [][4]int // per department: open, warning, yellow, red
	evals  int64    // clock evaluations by ticks, for tests
}

// NewMonitor returns a monitor that records cards in store. log may be nil.
func NewMonitor(store Store, log *slog.Logger) *Monitor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Monitor{store: store, log: log, ids: map[string]int32{}, deptIx: map[string]int32{}}
}

// Len returns the number of open clocks tracked.
func (m *Monitor) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.ids)
}

// Track adds clock c, or replaces the tracked clock of the same id: call it
// again after applying events to a clock. The monitor keeps its own copy of
// c, so the caller may go on applying events to c while ticks run. A
// finished clock is dropped. The clock is evaluated at now; cards whose
// rungs have already fired are issued by the next Tick, not by Track, so
// nothing is lost. A clock that cannot be evaluated (not started by now, or
// needing days outside its calendar) is dropped and reported as a
// [*ClockError].
func (m *Monitor) Track(c *Clock, now time.Time) error {
	var ev evaluation
	err := c.evaluate(now, &ev)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.drop(c.id)
		return &ClockError{ClockID: c.id, Err: err}
	}
	if !c.finishAt.IsZero() && !c.finishAt.After(now) {
		m.drop(c.id)
		return nil
	}
	next := int64(never)
	for _, re := range ev.rungs[:ev.n] {
		if re.fired {
			next = now.UnixNano() // due now: the next tick issues it
		}
	}
	if next == never && !ev.next.IsZero() {
		next = ev.next.UnixNano()
	}
	slot, ok := m.ids[c.id]
	if !ok {
		if n := len(m.free); n > 0 {
			slot, m.free = m.free[n-1], m.free[:n-1]
		} else {
			slot = int32(len(m.slots))
			m.slots = append(m.slots, entry{})
		}
		m.ids[c.id] = slot
		m.slots[slot] = entry{heap: -1, dept: m.dept(c.dept)}
		m.counts[m.slots[slot].dept][0]++
	}
	e := &m.slots[slot]
	if d := m.dept(c.dept); d != e.dept {
		m.count(e, -1)
		e.dept = d
		m.count(e, +1)
	}
	e.clock = c.clone()
	m.setNext(slot, next)
	return nil
}

// Remove stops tracking the clock with id; it is [ErrUnknownClock] if the
// monitor holds none.
func (m *Monitor) Remove(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ids[id]; !ok {
		return fmt.Errorf("%w: %q", ErrUnknownClock, id)
	}
	m.drop(id)
	return nil
}

func (m *Monitor) dept(name string) int32 {
	if i, ok := m.deptIx[name]; ok {
		return i
	}
	i := int32(len(m.depts))
	m.depts = append(m.depts, name)
	m.deptIx[name] = i
	m.counts = append(m.counts, [4]int{})
	return i
}

// count adds sign to e's department counts (open and its level).
func (m *Monitor) count(e *entry, sign int) {
	m.counts[e.dept][0] += sign
	if l := highest(e.issued); l != LevelNone {
		m.counts[e.dept][l] += sign
	}
}

func highest(issued uint8) Level {
	for l := LevelRed; l >= LevelWarning; l-- {
		if issued&(1<<l) != 0 {
			return l
		}
	}
	return LevelNone
}

func (m *Monitor) drop(id string) {
	slot, ok := m.ids[id]
	if !ok {
		return
	}
	e := &m.slots[slot]
	m.count(e, -1)
	m.setNext(slot, never)
	*e = entry{heap: -1}
	delete(m.ids, id)
	m.free = append(m.free, slot)
}

// Tick issues every card whose time has come by now and returns the cards
// newly issued, ordered by FiredAt and then Key (a card the
// store already held, from before a restart, is not returned again). A
// clock that cannot be evaluated is reported in the returned error as a
// [*ClockError] and left out of the index; the other clocks go on. A store
// error stops the tick; the clock that met it stays due for the next tick.
func (m *Monitor) Tick(ctx context.Context, now time.Time) ([]Card, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var cards []Card
	var errs []error
	limit := now.UnixNano()
	var ev evaluation
	for len(m.heap) > 0 {
		slot := m.heap[0].slot
		e := &m.slots[slot]
		if e.next > limit {
			break
		}
		c := e.clock
		m.evals++
		if err := c.evaluate(now, &ev); err != nil {
			errs = append(errs, &ClockError{ClockID: c.id, Err: err})
			m.setNext(slot, never)
			continue
		}
		issued := e.issued
		for _, re := range ev.rungs[:ev.n] {
			bit := uint8(1) << re.rung.Level
			if !re.fired || issued&bit != 0 {
				continue
			}
			card := Card{Key: CardKey(c.id, re.rung.Level), ClockID: c.id, Department: c.dept, Level: re.rung.Level,
				Watch: re.rung.Watch, Step: re.rung.Step, Due: re.due, FiredAt: re.fireAt, IssuedAt: now}
			fresh, err := m.store.RecordCard(ctx, card)
			if err != nil {
				m.setIssued(e, issued)
				return cards, errors.Join(append(errs, fmt.Errorf("deadline: monitor: recording %s: %w", card.Key, err))...)
			}
			issued |= bit
			if fresh {
				cards = append(cards, card)
				m.log.LogAttrs(ctx, slog.LevelInfo, "card issued", slog.String("clock", c.id), slog.String("department", c.dept), slog.String("level", card.Level.String()))
			}
		}
		m.setIssued(e, issued)
		next := int64(never)
		if !ev.next.IsZero() {
			next = ev.next.UnixNano()
			if next <= limit {
				next = limit + 1
			}
		}
		m.setNext(slot, next)
	}
	slices.SortStableFunc(cards, func(a, b Card) int {
		if c := a.FiredAt.Compare(b.FiredAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return cards, errors.Join(errs...)
}

func (m *Monitor) setIssued(e *entry, issued uint8) {
	if issued == e.issued {
		return
	}
	m.count(e, -1)
	e.issued = issued
	m.count(e, +1)
}

// Counts returns each department's open, warning, yellow and red cases,
// sorted by department. Departments whose cases are all gone are left out.
func (m *Monitor) Counts() []DepartmentCounts {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []DepartmentCounts
	for i, name := range m.depts {
		c := m.counts[i]
		if c == [4]int{} {
			continue
		}
		out = append(out, DepartmentCounts{Department: name, Open: c[0], Warning: c[LevelWarning], Yellow: c[LevelYellow], Red: c[LevelRed]})
	}
	slices.SortFunc(out, func(a, b DepartmentCounts) int {
		switch {
		case a.Department < b.Department:
			return -1
		case a.Department > b.Department:
			return 1
		}
		return 0
	})
	return out
}

// Next returns the earliest transition time among the tracked clocks, and
// false when no clock has one.
func (m *Monitor) Next() (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.heap) == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, m.heap[0].next), true
}

// heapItem is one heap element: the key inline, so that sifting reads
// contiguous memory, and the slot it belongs to.
type heapItem struct {
	next int64
	slot int32
}

// The heap is 4-ary: a node's children sit in one cache line, and a million
// clocks are ten levels deep.
const arity = 4

// setNext moves slot to next in the heap, removing it for never.
func (m *Monitor) setNext(slot int32, next int64) {
	e := &m.slots[slot]
	e.next = next
	switch {
	case next == never && e.heap >= 0:
		i := int(e.heap)
		last := len(m.heap) - 1
		m.swap(i, last)
		m.heap = m.heap[:last]
		e.heap = -1
		if i < last {
			m.down(i)
			m.up(i)
		}
	case next == never:
	case e.heap < 0:
		e.heap = int32(len(m.heap))
		m.heap = append(m.heap, heapItem{next: next, slot: slot})
		m.up(int(e.heap))
	default:
		i := int(e.heap)
		m.heap[i].next = next
		m.down(i)
		m.up(int(m.slots[slot].heap))
	}
}

func (m *Monitor) swap(i, j int) {
	m.heap[i], m.heap[j] = m.heap[j], m.heap[i]
	m.slots[m.heap[i].slot].heap = int32(i)
	m.slots[m.heap[j].slot].heap = int32(j)
}

func (m *Monitor) up(i int) {
	for i > 0 {
		p := (i - 1) / arity
		if m.heap[i].next >= m.heap[p].next {
			return
		}
		m.swap(i, p)
		i = p
	}
}

func (m *Monitor) down(i int) {
	n := len(m.heap)
	for {
		first := arity*i + 1
		if first >= n {
			return
		}
		j := first
		for k := first + 1; k < first+arity && k < n; k++ {
			if m.heap[k].next < m.heap[j].next {
				j = k
			}
		}
		if m.heap[j].next >= m.heap[i].next {
			return
		}
		m.swap(i, j)
		i = j
	}
}
