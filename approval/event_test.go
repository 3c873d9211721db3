package approval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/signature/jcs"
)

// sampleLog runs a short case and returns its log.
func sampleLog(t *testing.T) (*Definition, []Event) {
	t.Helper()
	h := newHarness(t, sampleDef(t), nil)
	h.start(bigApp)
	h.must(Command{Kind: CmdAccept, Actor: "clerk1", IdempotencyKey: "a-1"})
	h.must(Command{Kind: CmdComment, Actor: "alice", Comment: "<请> \"尽快\" & \u2028"})
	h.must(Command{Kind: CmdApprove, Actor: "rev1"})
	events, err := h.e.History(h.ctx, h.id)
	require.NoError(t, err)
	require.Len(t, events, 4)
	return h.def, events
}

func TestVerifyChainDetectsTampering(t *testing.T) {
	t.Parallel()
	def, events := sampleLog(t)
	require.NoError(t, VerifyChain(events))
	clone := func() []Event { return append([]Event(nil), events...) }
	rehash := func(e *Event) {
		h, err := e.ComputeHash()
		require.NoError(t, err)
		e.Hash = h
	}
	tests := []struct {
		name   string
		tamper func() []Event
		seq    int
	}{
		{"altered actor", func() []Event { es := clone(); es[1].Actor = "clerk2"; return es }, 2},
		{"altered and rehashed", func() []Event { es := clone(); es[1].Actor = "clerk2"; rehash(&es[1]); return es }, 3},
		{"altered time", func() []Event { es := clone(); es[2].At = es[2].At.Add(1); return es }, 3},
		{"removed", func() []Event { es := clone(); return append(es[:1], es[2:]...) }, 2},
		{"removed and renumbered", func() []Event {
			es := clone()
			es = append(es[:1], es[2:]...)
			for i := 1; i < len(es); i++ {
				es[i].Seq = i + 1
				rehash(&es[i])
			}
			return es
		}, 2},
		{"inserted", func() []Event {
			es := clone()
			extra := es[2]
			extra.Data.Comment = "插入"
			rehash(&extra)
			return append(es[:3], append([]Event{extra}, es[3:]...)...)
		}, 4},
		{"reordered", func() []Event { es := clone(); es[2], es[3] = es[3], es[2]; return es }, 3},
		{"other case", func() []Event { es := clone(); es[3].CaseID = "x"; return es }, 4},
		{"second start", func() []Event { es := clone(); es[2].Type = EventStarted; rehash(&es[2]); return es }, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := VerifyChain(tt.tamper())
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrCorrupt))
			var ce *ChainError
			require.True(t, errors.As(err, &ce))
			assert.Equal(t, tt.seq, ce.Seq, ce.Reason)
		})
	}
	_, err := Replay(def, nil)
	assert.ErrorIs(t, err, ErrCaseNotFound)
	out := clone()
	out[2].Seq = 7
	_, err = Replay(def, out)
	assert.ErrorIs(t, err, ErrCorrupt)
}

// TestLegacyCanonicalForm: an event stored before the switch to RFC 8785,
// in encoding/json's form, still decodes and verifies under its old hash;
// new events take the JCS form, and a signed event has no legacy form.
func TestLegacyCanonicalForm(t *testing.T) {
	t.Parallel()
	e := Event{CaseID: "c1", Seq: 1, Type: EventStarted, Actor: "alice", At: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC),
		Data: EventData{Definition: &DefinitionRef{ID: "d", Version: 1, Hash: "h"},
			Application: map[string]any{"capital": json.Number("1.50"), "note": "甲\u2028乙", "big": json.Number("1e3")}}}
	legacy, err := e.legacyCanonical()
	require.NoError(t, err)
	canon, err := e.Canonical()
	require.NoError(t, err)
	require.NotEqual(t, string(legacy), string(canon))
	assert.Contains(t, string(legacy), `"capital":1.50`)
	assert.Contains(t, string(canon), `"capital":1.5`)
	assert.Contains(t, string(canon), `"big":1000`)
	assert.Contains(t, string(legacy), `\u2028`)
	assert.Contains(t, string(canon), "\u2028")

	sum := sha256.Sum256(legacy)
	oldHash := hex.EncodeToString(sum[:])
	back, err := DecodeEvent(legacy, oldHash, "")
	require.NoError(t, err, "a log written before the switch decodes")
	require.NoError(t, VerifyChain([]Event{back}), "and verifies under its old hash")
	fresh, err := DecodeEvent(canon, mustHash(t, &e), "")
	require.NoError(t, err)
	require.NoError(t, VerifyChain([]Event{fresh}))

	e.Signed = true
	legacy, err = e.legacyCanonical()
	require.NoError(t, err)
	sum = sha256.Sum256(legacy)
	_, err = DecodeEvent(legacy, hex.EncodeToString(sum[:]), "x..y")
	assert.ErrorIs(t, err, ErrCorrupt, "signed events exist only in the JCS form")
}

func mustHash(t *testing.T, e *Event) string {
	t.Helper()
	h, err := e.ComputeHash()
	require.NoError(t, err)
	return h
}

func TestCanonicalEncoding(t *testing.T) {
	t.Parallel()
	_, events := sampleLog(t)
	for _, e := range events {
		c, err := e.Canonical()
		require.NoError(t, err)
		// RFC 8785: canonicalising again changes nothing.
		again, err := jcs.Canonicalize(c)
		require.NoError(t, err)
		assert.Equal(t, string(c), string(again))
		assert.NotContains(t, string(c), `\u003c`)
		assert.NotContains(t, string(c), e.Hash, "the hash is not part of what it covers")

		back, err := DecodeEvent(c, e.Hash, "eyJhbGciOiJFZERTQSJ9..c2ln")
		require.NoError(t, err)
		assert.Equal(t, e.Hash, back.Hash)
		assert.Equal(t, "eyJhbGciOiJFZERTQSJ9..c2ln", back.Signature)
	}
	c, err := events[0].Canonical()
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(c, []byte(`{"actor":"alice","at":"2026-03-02T01:00:00Z","caseId":"`)), string(c))
	assert.Contains(t, string(c), `"registeredCapital":20000000`)

	bad := []struct {
		name string
		body string
	}{
		{"whitespace", " " + string(c)},
		{"unknown field", `{"zzz":1,` + string(c[1:])},
		{"duplicate key", `{"actor":"bob",` + string(c[1:])},
		{"not json", `{`},
		{"hash inside", string(c[:len(c)-1]) + `,"hash":"x"}`},
	}
	for _, b := range bad {
		_, err := DecodeEvent([]byte(b.body), events[0].Hash, "")
		assert.ErrorIs(t, err, ErrCorrupt, b.name)
	}
	_, err = DecodeEvent(c, "00", "")
	assert.ErrorIs(t, err, ErrCorrupt, "wrong hash")
	_, err = DecodeEvent(make([]byte, MaxEventSize+1), "", "")
	assert.ErrorIs(t, err, ErrCorrupt, "too large")

	assert.True(t, EventDecided.IsDecision())
	assert.False(t, EventCommented.IsDecision())
	var ce *ChainError
	require.True(t, errors.As(VerifyChain([]Event{events[1]}), &ce))
	assert.Contains(t, ce.Error(), "event 1")
	js, err := json.Marshal(events[0])
	require.NoError(t, err)
	assert.Contains(t, string(js), `"hash"`)
}
