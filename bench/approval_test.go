package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/qmuntal/stateless"

	"github.com/egovkit/egovkit/approval"
)

// One transition of the bare approval state machine (no store, no
// hashing: approval.Replay over a prepared log, divided by its length)
// against github.com/qmuntal/stateless firing the same trigger between the
// same two states: approve moves a case from 初审 (review) to 决定
// (decide), return moves it back. Target: at most stateless's cost.
//
//	go test -run '^$' -bench 'Transition' -benchmem -count 10 | tee approval.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -col /impl approval.txt

const transitionDef = `{
  "specVersion": "approval/1", "id": "transition", "version": 1, "name": "t", "limits": {"legal": "20wd"}, "start": "accept",
  "steps": [
    {"id": "accept", "name": "受理", "mode": "single", "assignees": [{"role": "window-clerk"}], "next": [{"to": "review"}]},
    {"id": "review", "name": "初审", "mode": "single", "assignees": [{"role": "reviewer"}], "next": [{"to": "decide"}]},
    {"id": "decide", "name": "决定", "kind": "decision", "mode": "single", "assignees": [{"role": "head"}]}
  ]}`

const transitions = 1000

// transitionLog is a case that is started, accepted, then approved and
// returned by turns, transitions times. Task ids are deterministic: the
// start step's task is t1, and each step entered gets the next number.
func transitionLog(b *testing.B) (*approval.Definition, []approval.Event) {
	def, err := approval.ParseDefinition(strings.NewReader(transitionDef))
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	events := []approval.Event{
		{CaseID: "c", Seq: 1, Type: approval.EventStarted, Actor: "alice", At: at, Data: approval.EventData{
			Definition: &approval.DefinitionRef{ID: def.ID, Version: def.Version, Hash: def.Hash()}, Application: map[string]any{}}},
		{CaseID: "c", Seq: 2, Type: approval.EventAccepted, Actor: "clerk", At: at, Data: approval.EventData{Task: "t1"}},
	}
	for k := range transitions {
		e := approval.Event{CaseID: "c", Seq: len(events) + 1, Type: approval.EventApproved, Actor: "u", At: at, Data: approval.EventData{Task: "t" + itoa(k+2)}}
		if k%2 == 1 {
			e.Type, e.Data.To, e.Data.Reason = approval.EventReturned, "review", "r"
		}
		events = append(events, e)
	}
	return def, events
}

func itoa(n int) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(buf[i:])
		}
	}
}

func BenchmarkTransition(b *testing.B) {
	b.Run("impl=egovkit", func(b *testing.B) {
		def, events := transitionLog(b)
		c, err := approval.Replay(def, events)
		if err != nil || c.Step != "review" || c.Version != len(events) {
			b.Fatalf("replay: %v at %s", err, c.Step)
		}
		b.ResetTimer()
		for b.Loop() {
			if _, err := approval.Replay(def, events); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/transitions, "ns/transition")
	})
	b.Run("impl=stateless", func(b *testing.B) {
		sm := stateless.NewStateMachine("review")
		sm.Configure("review").Permit("approve", "decide")
		sm.Configure("decide").Permit("return", "review")
		b.ResetTimer()
		for b.Loop() {
			for k := range transitions {
				trigger := "approve"
				if k%2 == 1 {
					trigger = "return"
				}
				if err := sm.Fire(trigger); err != nil {
					b.Fatal(err)
				}
			}
		}
		if got := sm.MustState(); got != "review" {
			b.Fatalf("at %v", got)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/transitions, "ns/transition")
	})
}
