package approval

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// benchEngine returns an engine on store with the sample definition;
// cache is its Config.CacheSize.
func benchEngine(b *testing.B, store Store, cache ...int) (*Engine, *Definition) {
	b.Helper()
	def := sampleDef(b)
	clock := newTestClock()
	size := 0
	if len(cache) > 0 {
		size = cache[0]
	}
	e, err := New(Config{Store: store, Directory: sampleDirectory(), CacheSize: size, Clock: func() time.Time { clock.Advance(time.Millisecond); return clock.Now() }}, def)
	if err != nil {
		b.Fatal(err)
	}
	return e, def
}

// commandsPerCase bounds the log each benchmark case grows to, so that the
// cost of a command does not depend on b.N.
const commandsPerCase = 20

// runCommands runs one command per iteration: a start every
// commandsPerCase commands, comments in between. Each command loads and
// replays its case and commits one event.
func runCommands(b *testing.B, e *Engine, def *Definition, worker int) func() {
	ctx := context.Background()
	n, id, version := 0, "", 0
	application := app(b, smallApp)
	return func() {
		if n%commandsPerCase == 0 {
			r, err := e.Start(ctx, StartCommand{Definition: def.ID, Applicant: "alice", Application: application})
			if err != nil {
				b.Fatal(err)
			}
			id, version = r.Case.ID, r.Case.Version
		} else {
			r, err := e.Execute(ctx, Command{Kind: CmdComment, CaseID: id, Actor: "alice", ExpectedVersion: version, Comment: fmt.Sprintf("w%d-%d", worker, n)})
			if err != nil {
				b.Fatal(err)
			}
			version = r.Case.Version
		}
		n++
	}
}

// benchSequential runs b.N commands one after another.
func benchSequential(b *testing.B, e *Engine, def *Definition) {
	next := runCommands(b, e, def, 0)
	b.ResetTimer()
	for b.Loop() {
		next()
	}
	reportRate(b)
}

// benchParallel runs b.N commands from 16 callers a core, each on cases
// of its own.
func benchParallel(b *testing.B, e *Engine, def *Definition) {
	var worker atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		next := runCommands(b, e, def, int(worker.Add(1)))
		for pb.Next() {
			next()
		}
	})
	reportRate(b)
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
}

// postgresBenchStore is a store in a fresh schema of the test database,
// or skips the benchmark when EGOVKIT_TEST_POSTGRES is not set.
func postgresBenchStore(b *testing.B) Store {
	dsn := os.Getenv("EGOVKIT_TEST_POSTGRES")
	if dsn == "" {
		b.Skip("EGOVKIT_TEST_POSTGRES is not set")
	}
	return postgresSchema(b, dsn)()
}

func sqliteBenchStore(b *testing.B) Store {
	s, err := OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkCommandsSQLite: durable commands (synchronous=FULL, one commit
// each) on one case at a time.
func BenchmarkCommandsSQLite(b *testing.B) {
	e, def := benchEngine(b, sqliteBenchStore(b))
	benchSequential(b, e, def)
}

// BenchmarkCommandsSQLiteParallel: many cases, commands in parallel (16
// callers a core), sharing commits.
func BenchmarkCommandsSQLiteParallel(b *testing.B) {
	e, def := benchEngine(b, sqliteBenchStore(b))
	benchParallel(b, e, def)
}

// BenchmarkCommandsPostgres: the same against PostgreSQL, when
// EGOVKIT_TEST_POSTGRES is set.
func BenchmarkCommandsPostgres(b *testing.B) {
	e, def := benchEngine(b, postgresBenchStore(b))
	benchSequential(b, e, def)
}

// BenchmarkCommandsPostgresParallel: many cases in parallel against
// PostgreSQL (16 callers a core), sharing commits.
func BenchmarkCommandsPostgresParallel(b *testing.B) {
	e, def := benchEngine(b, postgresBenchStore(b))
	benchParallel(b, e, def)
}

// BenchmarkCommandsMemory: the engine's own cost per command (check,
// replay of a short case, hashing), without a disk.
func BenchmarkCommandsMemory(b *testing.B) {
	e, def := benchEngine(b, NewMemoryStore())
	benchSequential(b, e, def)
}

// BenchmarkCommandsMemoryNoCache: the same without case snapshots: each
// command reloads (decodes and checks) and replays its case's log.
func BenchmarkCommandsMemoryNoCache(b *testing.B) {
	e, def := benchEngine(b, NewMemoryStore(), -1)
	benchSequential(b, e, def)
}

// BenchmarkCommandsSQLiteParallelNoCache: BenchmarkCommandsSQLiteParallel
// without case snapshots.
func BenchmarkCommandsSQLiteParallelNoCache(b *testing.B) {
	e, def := benchEngine(b, sqliteBenchStore(b), -1)
	benchParallel(b, e, def)
}

// BenchmarkTiming: building a case's clocks from its marks (accepted, a
// 补正 pause, an extension) and reading them.
func BenchmarkTiming(b *testing.B) {
	def := sampleDef(b)
	at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	c := &Case{ID: "bench", Definition: DefinitionRef{ID: def.ID}, Limits: def.Limits, Step: "review", StepLimit: "5wd", Accepted: true,
		Extension: &Extension{Length: "10wd", Approver: "head", Reason: "r"},
		Marks: []Mark{
			{Kind: MarkSubmitted, At: at}, {Kind: MarkStep, At: at, Step: "accept", Seq: 1},
			{Kind: MarkAccepted, At: at.Add(time.Hour), Seq: 2}, {Kind: MarkStep, At: at.Add(time.Hour), Step: "review", Seq: 2},
			{Kind: MarkPaused, At: at.Add(48 * time.Hour), Detail: "correction", Seq: 3}, {Kind: MarkResumed, At: at.Add(120 * time.Hour), Seq: 4},
			{Kind: MarkExtended, At: at.Add(130 * time.Hour), Detail: "10wd", Seq: 5},
		}}
	read := at.Add(20 * 24 * time.Hour)
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Timing(read); err != nil {
			b.Fatal(err)
		}
	}
}

// longLog builds a case of n events (a start and comments) with its hash
// chain, without an engine.
func longLog(b *testing.B, def *Definition, n int) []Event {
	b.Helper()
	at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	events := make([]Event, 0, n)
	prev := ""
	for i := 1; i <= n; i++ {
		e := Event{CaseID: "bench", Seq: i, Type: EventCommented, Actor: "alice", At: at.Add(time.Duration(i) * time.Second), PrevHash: prev, Data: EventData{Comment: fmt.Sprintf("意见 %d", i)}}
		if i == 1 {
			e.Type, e.Data = EventStarted, EventData{Definition: &DefinitionRef{ID: def.ID, Version: def.Version, Hash: def.Hash()}, Application: app(b, smallApp)}
		}
		h, err := e.ComputeHash()
		if err != nil {
			b.Fatal(err)
		}
		e.Hash, prev = h, h
		events = append(events, e)
	}
	return events
}

// BenchmarkReplay1000: deriving the state of a 1,000-event case.
func BenchmarkReplay1000(b *testing.B) {
	def := sampleDef(b)
	events := longLog(b, def, 1000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Replay(def, events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/event")
}

// BenchmarkVerifyChain1000: checking the hash chain of a 1,000-event case.
func BenchmarkVerifyChain1000(b *testing.B) {
	def := sampleDef(b)
	events := longLog(b, def, 1000)
	b.ResetTimer()
	for b.Loop() {
		if err := VerifyChain(events); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad1000SQLite: reading a 1,000-event case from SQLite
// (decoding and checking each row) and replaying it.
func BenchmarkLoad1000SQLite(b *testing.B) {
	def := sampleDef(b)
	events := longLog(b, def, 1000)
	s := sqliteBenchStore(b).(*SQLStore)
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range events {
		body, err := events[i].Canonical()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO approval_events (case_id, seq, body, hash) VALUES (?, ?, ?, ?)", "bench", i+1, string(body), events[i].Hash); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := s.Events(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Replay(def, got); err != nil {
			b.Fatal(err)
		}
	}
}

// transitionDef is the sample flow without the branch condition, so that
// a transition is the state machine alone.
const transitionDef = `{
  "specVersion": "approval/1", "id": "transition", "version": 1, "name": "t", "limits": {"legal": "20wd"}, "start": "accept",
  "steps": [
    {"id": "accept", "name": "受理", "mode": "single", "assignees": [{"role": "window-clerk"}], "next": [{"to": "review"}]},
    {"id": "review", "name": "初审", "mode": "single", "assignees": [{"role": "reviewer"}], "next": [{"to": "decide"}]},
    {"id": "decide", "name": "决定", "kind": "decision", "mode": "single", "assignees": [{"role": "head"}]}
  ]}`

// BenchmarkTransition: one transition of the bare state machine, no
// store, no hashing: approve moves the case from 初审 to 决定, return
// moves it back; each iteration is one of the two.
func BenchmarkTransition(b *testing.B) {
	benchTransition(b, mustDef(b, transitionDef))
}

// BenchmarkTransitionCEL: the same on the sample flow, whose approval at
// 初审 evaluates a CEL branch condition on the application.
func BenchmarkTransitionCEL(b *testing.B) {
	benchTransition(b, sampleDef(b))
}

func benchTransition(b *testing.B, def *Definition) {
	events := longLog(b, def, 1)
	c, err := Replay(def, events)
	if err != nil {
		b.Fatal(err)
	}
	at := events[0].At
	step := func(typ EventType, task string, data EventData) {
		data.Task = task
		e := Event{CaseID: "bench", Seq: c.Version + 1, Type: typ, Actor: "u", At: at, Data: data}
		if err := c.apply(def, &e); err != nil {
			b.Fatal(err)
		}
	}
	step(EventAccepted, c.Tasks[0].ID, EventData{})
	if c.Step != "review" {
		b.Fatalf("at %s", c.Step)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if c.Step == "review" {
			step(EventApproved, c.Tasks[0].ID, EventData{})
		} else {
			step(EventReturned, c.Tasks[0].ID, EventData{To: "review", Reason: "r"})
		}
		if i++; i%1024 == 0 {
			c.Marks, c.Path = c.Marks[:0], c.Path[:1]
		}
	}
}
