package approval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/egovkit/egovkit/internal/strictjson"
)

// CommandKind names a command.
type CommandKind string

// Commands. Start is [Engine.Start]; the others go through
// [Engine.Execute].
const (
	CmdStart             CommandKind = "start"             // 提交申请
	CmdAccept            CommandKind = "accept"            // 受理
	CmdRefuse            CommandKind = "refuse"            // 不予受理
	CmdRequestCorrection CommandKind = "requestCorrection" // 补正告知
	CmdResubmit          CommandKind = "resubmit"          // 补正或退回后重新提交
	CmdApprove           CommandKind = "approve"           // 同意
	CmdReject            CommandKind = "reject"            // 不同意
	CmdReturn            CommandKind = "return"            // 退回
	CmdWithdraw          CommandKind = "withdraw"          // 撤回
	CmdTransfer          CommandKind = "transfer"          // 转交
	CmdAddSigner         CommandKind = "addSigner"         // 加签
	CmdComment           CommandKind = "comment"           // 意见
	CmdCopy              CommandKind = "copy"              // 抄送
	CmdUrge              CommandKind = "urge"              // 催办
	CmdExtend            CommandKind = "extend"            // 延长期限
	CmdDecide            CommandKind = "decide"            // 决定
)

var commandEvents = map[CommandKind]EventType{
	CmdStart:             EventStarted,
	CmdAccept:            EventAccepted,
	CmdRefuse:            EventRefused,
	CmdRequestCorrection: EventCorrectionRequested,
	CmdResubmit:          EventResubmitted,
	CmdApprove:           EventApproved,
	CmdReject:            EventRejected,
	CmdReturn:            EventReturned,
	CmdWithdraw:          EventWithdrawn,
	CmdTransfer:          EventTransferred,
	CmdAddSigner:         EventSignerAdded,
	CmdComment:           EventCommented,
	CmdCopy:              EventCopied,
	CmdUrge:              EventUrged,
	CmdExtend:            EventExtended,
	CmdDecide:            EventDecided,
}

// Position is where an added signer (加签) acts relative to the one who
// adds them.
type Position string

// Positions of an added signer.
const (
	Before    Position = "before"    // 前加签: the added signer acts first, then the task returns
	After     Position = "after"     // 后加签: the added signer acts after the adder approves
	Alongside Position = "alongside" // 并加签: both act, in parallel
)

// Outcome is a final decision (决定).
type Outcome string

// Outcomes of a decision.
const (
	Granted Outcome = "granted" // 准予
	Denied  Outcome = "denied"  // 不予
)

// StartCommand submits an application (提交申请) and starts a case.
type StartCommand struct {
	// CaseID is the new case's id; empty means a new UUIDv7. Giving one
	// makes Start retryable: a second Start with the same id and
	// idempotency key returns the first case.
	CaseID string
	// Definition and Version name the process; Version 0 is the latest
	// the engine has.
	Definition string
	Version    int
	// Applicant is the actor: the user who applies (申请人).
	Applicant string
	// Application is the application document (申请书), a JSON object as
	// strictjson or encoding/json (with UseNumber) decode it.
	Application    map[string]any
	IdempotencyKey string
	// Department, when set, is the organ that handles this case (承办部门),
	// in place of the definition's: a complaint routed at intake to the
	// district that must answer it, say. The case's clocks, cards and
	// listings are then that organ's, and an "org" assignee of a step
	// that names the definition's own department stands for this organ
	// (copies, 抄送, go as the definition writes them). It is recorded in
	// the started event, so that replay gives the same case.
	Department *Organ
}

// Command is one command on a running case. Which fields matter depends
// on Kind:
//
//	accept, approve            Task (optional), Comment
//	refuse, reject             Reason (required), Task
//	requestCorrection          Reason (the materials to correct), Task
//	resubmit                   Application (optional: the corrected one)
//	return                     To (an earlier step) or ToApplicant, Reason
//	withdraw                   Reason
//	transfer                   To (a user), Task, Reason
//	addSigner                  Users, Position, Task
//	comment                    Comment (required)
//	copy                       Users
//	urge                       Task (optional: every pending task)
//	extend                     Approver (required), Extension (optional), Reason (required)
//	decide                     Decision, Reason (required when denied), Task
//
// ExpectedVersion is the case's version the actor saw (optimistic
// concurrency); IdempotencyKey, when not empty, makes a retry return the
// first result instead of acting twice.
type Command struct {
	Kind            CommandKind
	CaseID          string
	Actor           string
	ExpectedVersion int
	IdempotencyKey  string

	Task        string
	Reason      string
	Comment     string
	To          string
	ToApplicant bool
	Users       []string
	Position    Position
	Decision    Outcome
	Approver    string
	Extension   string
	Application map[string]any

	// Signer, if set, signs the command's event (a decision:
	// [EventType.IsDecision]) with the actor's key; the engine verifies the
	// signature under its [SignaturePolicy] before storing anything, and
	// refuses the command with RuleBadSignature when it does not hold.
	Signer EventSigner
}

// ScriptLine is one line of a command script (JSON Lines), the format of
// egovkit approval replay. Exactly one of Start and Command is set. At, if
// not zero, is the time at which the line is applied.
type ScriptLine struct {
	Start   *StartCommand
	Command *Command
	At      time.Time
}

// Limits on one script line.
const (
	MaxCommandSize  = 1 << 20 // bytes
	MaxCommandDepth = 32
	MaxUsers        = 100 // users in one addSigner or copy
	MaxTextLength   = 4000
)

type wireCommand struct {
	Cmd         CommandKind     `json:"cmd"`
	Actor       string          `json:"actor"`
	Case        string          `json:"case"`
	Version     int             `json:"version"`
	Key         string          `json:"key"`
	At          string          `json:"at"`
	Definition  string          `json:"definition"`
	DefVersion  int             `json:"definitionVersion"`
	Task        string          `json:"task"`
	Reason      string          `json:"reason"`
	Comment     string          `json:"comment"`
	To          string          `json:"to"`
	ToApplicant bool            `json:"toApplicant"`
	Users       []string        `json:"users"`
	Position    Position        `json:"position"`
	Decision    Outcome         `json:"decision"`
	Approver    string          `json:"approver"`
	Extension   string          `json:"extension"`
	Application json.RawMessage `json:"application"`
	Department  *Organ          `json:"department"`
}

// DecodeCommand reads one script line strictly: a JSON object (valid
// UTF-8, no duplicate keys, no unknown members, within the limits above)
// with these members, all optional except cmd and actor:
//
//	cmd          the command: start, accept, refuse, requestCorrection,
//	             resubmit, approve, reject, return, withdraw, transfer,
//	             addSigner, comment, copy, urge, extend, decide
//	actor        the user who acts (for start: the applicant)
//	case         the case id (start: the new case's id)
//	version      the expected version; 0 or absent lets a script runner
//	             use the case's current version
//	key          the idempotency key
//	at           RFC 3339 time at which the line is applied
//	definition, definitionVersion   start: the process and its version
//	application  start, resubmit: the application object
//	department   start: the handling department, {"name": …, "orgId": …}
//	             (see StartCommand.Department)
//	task, reason, comment, to, toApplicant, users, position, decision,
//	approver, extension: as in [Command]
//
// A line that is not such an object fails with a [*CommandError] with
// RuleMalformed; a line with a missing or out-of-range field with
// RuleInvalid.
func DecodeCommand(data []byte) (ScriptLine, error) {
	lim := strictjson.Limits{MaxBytes: MaxCommandSize, MaxDepth: MaxCommandDepth}
	tree, err := strictjson.Parse(data, lim)
	if err != nil {
		return ScriptLine{}, &CommandError{Rule: RuleMalformed, Message: err.Error(), Err: err}
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return ScriptLine{}, refuse("", RuleMalformed, "a command line is a JSON object")
	}
	var w wireCommand
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return ScriptLine{}, &CommandError{Rule: RuleMalformed, Message: err.Error(), Err: err}
	}
	line := ScriptLine{}
	if w.At != "" {
		t, err := time.Parse(time.RFC3339Nano, w.At)
		if err != nil {
			return ScriptLine{}, refuse(w.Cmd, RuleInvalid, "at %q is not an RFC 3339 time", w.At)
		}
		line.At = t
	}
	var app map[string]any
	if w.Application != nil {
		a, ok := obj["application"].(map[string]any)
		if !ok {
			return ScriptLine{}, refuse(w.Cmd, RuleInvalid, "application is not a JSON object")
		}
		app = a
	}
	if err := checkText(w.Cmd, map[string]string{"actor": w.Actor, "case": w.Case, "key": w.Key, "task": w.Task, "reason": w.Reason, "comment": w.Comment, "to": w.To, "approver": w.Approver, "definition": w.Definition}); err != nil {
		return ScriptLine{}, err
	}
	if len(w.Users) > MaxUsers {
		return ScriptLine{}, refuse(w.Cmd, RuleInvalid, "users has %d entries; expected at most %d", len(w.Users), MaxUsers)
	}
	if w.Actor == "" {
		return ScriptLine{}, refuse(w.Cmd, RuleInvalid, "actor is missing")
	}
	if w.Department != nil && w.Cmd != CmdStart {
		return ScriptLine{}, refuse(w.Cmd, RuleInvalid, "department names a new case's handling department; expected it on start only")
	}
	if w.Version < 0 || w.DefVersion < 0 {
		return ScriptLine{}, refuse(w.Cmd, RuleInvalid, "versions are positive")
	}
	switch _, known := commandEvents[w.Cmd]; {
	case w.Cmd == "":
		return ScriptLine{}, refuse("", RuleMalformed, "cmd is missing")
	case !known:
		return ScriptLine{}, refuse(w.Cmd, RuleMalformed, "unknown command %q", w.Cmd)
	case w.Cmd == CmdStart:
		line.Start = &StartCommand{CaseID: w.Case, Definition: w.Definition, Version: w.DefVersion, Applicant: w.Actor, Application: app, IdempotencyKey: w.Key,
			Department: w.Department}
		return line, nil
	}
	line.Command = &Command{
		Kind: w.Cmd, CaseID: w.Case, Actor: w.Actor, ExpectedVersion: w.Version, IdempotencyKey: w.Key,
		Task: w.Task, Reason: w.Reason, Comment: w.Comment, To: w.To, ToApplicant: w.ToApplicant,
		Users: w.Users, Position: w.Position, Decision: w.Decision, Approver: w.Approver, Extension: w.Extension,
		Application: app,
	}
	return line, nil
}

func checkText(kind CommandKind, fields map[string]string) error {
	for name, v := range fields {
		if len(v) > MaxTextLength {
			return refuse(kind, RuleInvalid, "%s is %d bytes long; expected at most %d", name, len(v), MaxTextLength)
		}
	}
	return nil
}

// String renders the command for logs.
func (c Command) String() string {
	return fmt.Sprintf("%s by %s on %s at version %d", c.Kind, c.Actor, c.CaseID, c.ExpectedVersion)
}
