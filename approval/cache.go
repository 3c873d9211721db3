package approval

import (
	"slices"
	"sync"
)

// DefaultCacheSize is the number of case snapshots an engine keeps when
// Config.CacheSize is 0.
const DefaultCacheSize = 4096

// snapshot is a case's state at a version, as this engine last loaded or
// wrote it, with the idempotency keys its log holds. It is immutable:
// users clone the case.
type snapshot struct {
	def  *Definition
	c    *Case
	keys []string
}

// caseCache keeps recent snapshots so that a command need not reload and
// replay its case's whole log. It is only a guess of the newest state: a
// command that acts on a snapshot appends the event after its version, and
// the store's version rule refuses it if another engine (or process) got
// there first; the engine then reloads the log, so a stale snapshot costs
// a conflict and a reload, never a lost update.
type caseCache struct {
	mu   sync.Mutex
	max  int
	snap map[string]*snapshot
}

func newCaseCache(size int) *caseCache {
	switch {
	case size < 0:
		return nil
	case size == 0:
		size = DefaultCacheSize
	}
	return &caseCache{max: size, snap: map[string]*snapshot{}}
}

// get returns a copy of the case at version and the keys its log holds,
// if the snapshot is there and has not seen key; nil otherwise.
func (cc *caseCache) get(id string, version int, key string) (*Definition, *Case, []string) {
	if cc == nil {
		return nil, nil, nil
	}
	cc.mu.Lock()
	s := cc.snap[id]
	cc.mu.Unlock()
	if s == nil || s.c.Version != version || (key != "" && slices.Contains(s.keys, key)) {
		return nil, nil, nil
	}
	return s.def, s.c.clone(), s.keys
}

// put records the state c (which the caller hands over) with its keys.
func (cc *caseCache) put(def *Definition, c *Case, keys []string) {
	if cc == nil {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if old := cc.snap[c.ID]; old != nil && old.c.Version > c.Version {
		return // a newer state is known
	}
	if _, ok := cc.snap[c.ID]; !ok && len(cc.snap) >= cc.max {
		for id := range cc.snap { // evict an arbitrary snapshot
			delete(cc.snap, id)
			break
		}
	}
	cc.snap[c.ID] = &snapshot{def: def, c: c, keys: keys}
}

// withKey returns keys with one more (if not empty), sharing nothing
// with keys.
func withKey(keys []string, key string) []string {
	if key == "" {
		return keys
	}
	return append(slices.Clip(keys), key)
}

func (cc *caseCache) drop(id string) {
	if cc == nil {
		return
	}
	cc.mu.Lock()
	delete(cc.snap, id)
	cc.mu.Unlock()
}

func keysOf(events []Event) []string {
	var keys []string
	for i := range events {
		if k := events[i].IdempotencyKey; k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// clone returns a copy of c that shares nothing mutable with it.
func (c *Case) clone() *Case {
	n := *c
	n.Tasks = slices.Clone(c.Tasks)
	n.Path = slices.Clone(c.Path)
	n.Marks = slices.Clone(c.Marks)
	n.Copies = slices.Clone(c.Copies)
	n.Comments = slices.Clone(c.Comments)
	n.Participants = slices.Clone(c.Participants)
	n.unitBuf = nil
	return &n
}
