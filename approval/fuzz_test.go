package approval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseDefinition: ParseDefinition never panics, and every rejection
// is a DefinitionError whose violations have a rule and a message.
func FuzzParseDefinition(f *testing.F) {
	data, err := os.ReadFile("testdata/annual-inspection.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"specVersion":"approval/1","id":"x","version":1,"name":"n","limits":{"legal":"1d"},"start":"a","steps":[{"id":"a","name":"a","mode":"single","kind":"decision","assignees":[{"user":"u"}]}]}`))
	f.Add([]byte(`{"steps":[{"id":"a","next":[{"to":"a","when":"application.x > 1"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseDefinition(bytes.NewReader(data))
		if err == nil {
			return
		}
		var de *DefinitionError
		if !errors.As(err, &de) || len(de.Violations) == 0 {
			t.Fatalf("rejection is not a DefinitionError with violations: %v", err)
		}
		for _, v := range de.Violations {
			if v.Rule == "" || v.Message == "" {
				t.Fatalf("violation without rule or message: %+v", v)
			}
		}
	})
}

// FuzzDecodeCommand: DecodeCommand never panics; every rejection is a
// CommandError with a rule; every accepted line is a start or a command.
func FuzzDecodeCommand(f *testing.F) {
	for _, s := range []string{
		`{"cmd":"start","actor":"alice","application":{"enterprise":"甲","registeredCapital":1e7}}`,
		`{"cmd":"accept","actor":"clerk1","version":1,"key":"k1","at":"2026-03-02T09:00:00+08:00"}`,
		`{"cmd":"addSigner","actor":"u1","users":["a","b"],"position":"after","task":"t2"}`,
		`{"cmd":"return","actor":"u","to":"review","toApplicant":false,"reason":"x"}`,
		`{"cmd":"extend","actor":"u","approver":"head","extension":"10wd","reason":"r"}`,
		`{"cmd":"decide","actor":"h","decision":"denied","reason":"r"}`,
		`[1,2]`, `{"cmd":1}`, `{"cmd":"accept","actor":"u","version":1e99}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		line, err := DecodeCommand(data)
		if err != nil {
			if RuleOf(err) == "" {
				t.Fatalf("rejection without a rule: %v", err)
			}
			return
		}
		if (line.Start == nil) == (line.Command == nil) {
			t.Fatalf("exactly one of Start and Command must be set: %+v", line)
		}
	})
}

// FuzzEngine drives the sample flow with commands chosen by the input:
// the engine never panics, a refused command changes nothing, and every
// prefix of the log replays to the state the engine returned.
func FuzzEngine(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{1, 16, 2, 33, 50, 67, 84, 101, 118, 135})
	f.Add([]byte{5, 1, 255, 128, 64, 32, 16, 8, 4, 2, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64 {
			data = data[:64]
		}
		h := newHarness(t, sampleDef(t), nil)
		application := bigApp
		if len(data) > 0 && data[0]%2 == 1 {
			application = smallApp
		}
		h.start(application)
		for _, b := range data {
			h.do(randomCommand(b))
		}
		h.checkReplay()
		require.NoError(t, h.e.Verify(h.ctx, h.id))
	})
}

// randomCommand picks a command and an actor from one byte: the low five
// bits the command (moving ones more often than ending ones), the high
// three the member of staff; the applicant's commands go to the applicant.
func randomCommand(b byte) Command {
	kinds := []CommandKind{
		CmdAccept, CmdAccept, CmdAccept, CmdApprove, CmdApprove, CmdApprove, CmdApprove, CmdApprove,
		CmdApprove, CmdApprove, CmdDecide, CmdDecide, CmdResubmit, CmdResubmit, CmdAddSigner, CmdAddSigner,
		CmdTransfer, CmdReturn, CmdReturn, CmdComment, CmdCopy, CmdUrge, CmdExtend, CmdExtend,
		CmdRequestCorrection, CmdReject, CmdRefuse, CmdWithdraw, CmdApprove, CmdAccept, CmdApprove, CmdDecide,
	}
	staff := []string{"clerk1", "rev1", "env1", "env2", "fire1", "head1", "x1", "x2"}
	cmd := Command{Kind: kinds[b%32], Actor: staff[b/32], Reason: "理由", Comment: "意见"}
	switch cmd.Kind {
	case CmdResubmit, CmdUrge:
		cmd.Actor = "alice"
	case CmdWithdraw:
		if b/32 == 7 {
			cmd.Actor = "alice"
		}
	case CmdDecide:
		if b/32 < 5 {
			cmd.Actor = "head1"
		}
	}
	switch cmd.Kind {
	case CmdReturn:
		cmd.To, cmd.ToApplicant = "review", b%3 == 0
		if cmd.ToApplicant {
			cmd.To = ""
		}
	case CmdTransfer:
		cmd.To = "x1"
	case CmdAddSigner:
		cmd.Users, cmd.Position = []string{"x2"}, []Position{Before, After, Alongside}[b%3]
	case CmdCopy:
		cmd.Users = []string{"sup1"}
	case CmdExtend:
		cmd.Approver = "head1"
	case CmdDecide:
		cmd.Decision = []Outcome{Granted, Denied}[b%2]
	}
	return cmd
}

// TestRandomCommandSequences runs FuzzEngine's property on fixed seeds.
func TestRandomCommandSequences(t *testing.T) {
	t.Parallel()
	for seed := range 30 {
		t.Run(strconv.Itoa(seed), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(uint64(seed), 7))
			h := newHarness(t, sampleDef(t), nil)
			h.start([]string{bigApp, smallApp}[seed%2])
			ok := 0
			for range 120 {
				if _, err := h.do(randomCommand(byte(r.IntN(256)))); err == nil {
					ok++
				}
			}
			c, err := h.e.Case(h.ctx, h.id)
			require.NoError(t, err)
			t.Logf("%d commands applied; %s at %q, path %v", ok, c.Status, c.Step, c.Path)
			h.checkReplay()
			h.checkTimingReplay(shanghai(4, 1, 9))
			require.NoError(t, h.e.Verify(h.ctx, h.id))
		})
	}
}

// FuzzDecodeEvent: a stored row is hostile input; decoding never panics,
// and what decodes encodes back to the stored bytes under its hash.
func FuzzDecodeEvent(f *testing.F) {
	e := Event{CaseID: "c", Seq: 2, Type: EventDecided, Actor: "head1", At: shanghai(3, 2, 9), Signed: true, PrevHash: "ab",
		Data: EventData{Decision: Granted, Task: "t3", Reason: "符合\u2028条件"}}
	body, err := e.Canonical()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body, "x..y")
	f.Add([]byte(`{"caseId":"c","seq":1,"type":"started","actor":"a","at":"2026-03-02T01:00:00Z","data":{"application":{"n":1.50}}}`), "")
	f.Fuzz(func(t *testing.T, data []byte, sig string) {
		sum := sha256.Sum256(data)
		ev, err := DecodeEvent(data, hex.EncodeToString(sum[:]), sig)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		again, err := ev.Canonical()
		require.NoError(t, err)
		old, err := ev.legacyCanonical()
		require.NoError(t, err)
		require.True(t, bytes.Equal(again, data) || bytes.Equal(old, data), "decodes to what it encodes")
		if _, err := DecodeSignature(sig); err == nil {
			require.Equal(t, sig, ev.Signature)
		}
	})
}
