package approval

import (
	"errors"
	"fmt"
	"strings"
)

// Rule ids of refused commands. They are stable: callers and the replay
// command line print them, and tests compare them.
const (
	RuleMalformed          = "approval.command.malformed"            // the command is not well formed
	RuleInvalid            = "approval.command.invalid"              // a field is missing or out of range
	RuleUnknownCase        = "approval.command.unknown-case"         // no such case
	RuleCaseExists         = "approval.command.case-exists"          // Start with a case id already used
	RuleUnknownDefinition  = "approval.command.unknown-definition"   // Start names a definition the engine lacks
	RuleApplicationInvalid = "approval.command.application-invalid"  // the application breaks its schema
	RuleWrongState         = "approval.command.wrong-state"          // not allowed in the case's status or step
	RuleNotAssignee        = "approval.command.not-assignee"         // the actor holds no task that allows it
	RuleNotApplicant       = "approval.command.not-applicant"        // only the applicant may do this
	RuleAlreadyActed       = "approval.command.already-acted"        // the actor already acted at this step
	RuleStaleVersion       = "approval.command.stale-version"        // the expected version is not the case's
	RuleKeyReused          = "approval.command.key-reused"           // an idempotency key reused for another command
	RuleWithdrawNotAllowed = "approval.command.withdraw-not-allowed" // the definition does not allow 撤回
	RuleReturnTarget       = "approval.command.return-target"        // 退回 to a step that is not earlier
	RuleUrgeTooSoon        = "approval.command.urge-too-soon"        // 催办 within the definition's interval
	RuleNoExtension        = "approval.command.no-extension"         // the definition allows no extension
	RuleExtensionUsed      = "approval.command.extension-used"       // the limit was already extended once
	RuleExtensionTooLong   = "approval.command.extension-too-long"   // longer than the definition allows
	RuleCondition          = "approval.command.condition"            // a branch condition failed on the application
	RuleBadSignature       = "approval.command.bad-signature"        // the signature does not verify or is not the actor's
	RuleSignatureRequired  = "approval.command.signature-required"   // the SignaturePolicy requires a signed decision
)

// CommandError is a refused command: the rule it broke, the command, and
// what was expected. A refused command changes nothing. Compare with
// errors.Is against the sentinels ([ErrWrongState], [ErrNotAssignee], …),
// which match any CommandError with the same rule, or read Rule through
// errors.As.
type CommandError struct {
	Rule       string
	Command    CommandKind
	Message    string
	Violations []Violation // for RuleApplicationInvalid: every problem of the application
	Err        error       // the cause, such as ErrVersionConflict, if any
}

// Error implements error.
func (e *CommandError) Error() string {
	var b strings.Builder
	b.WriteString("approval: ")
	if e.Command != "" {
		b.WriteString(string(e.Command) + ": ")
	}
	b.WriteString(e.Rule)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for _, v := range e.Violations {
		fmt.Fprintf(&b, "\n  %s: %s: %s", v.Pointer, v.Rule, v.Message)
	}
	return b.String()
}

// Is reports whether target is a CommandError with the same rule and no
// message (one of the sentinels).
func (e *CommandError) Is(target error) bool {
	t, ok := target.(*CommandError)
	return ok && t.Message == "" && t.Command == "" && t.Rule == e.Rule
}

// Unwrap returns the cause.
func (e *CommandError) Unwrap() error { return e.Err }

// Sentinels for errors.Is, one per rule.
var (
	ErrMalformed          = &CommandError{Rule: RuleMalformed}
	ErrInvalidCommand     = &CommandError{Rule: RuleInvalid}
	ErrUnknownCase        = &CommandError{Rule: RuleUnknownCase}
	ErrCaseExists         = &CommandError{Rule: RuleCaseExists}
	ErrUnknownDefinition  = &CommandError{Rule: RuleUnknownDefinition}
	ErrApplicationInvalid = &CommandError{Rule: RuleApplicationInvalid}
	ErrWrongState         = &CommandError{Rule: RuleWrongState}
	ErrNotAssignee        = &CommandError{Rule: RuleNotAssignee}
	ErrNotApplicant       = &CommandError{Rule: RuleNotApplicant}
	ErrAlreadyActed       = &CommandError{Rule: RuleAlreadyActed}
	ErrStaleVersion       = &CommandError{Rule: RuleStaleVersion}
	ErrKeyReused          = &CommandError{Rule: RuleKeyReused}
	ErrWithdrawNotAllowed = &CommandError{Rule: RuleWithdrawNotAllowed}
	ErrReturnTarget       = &CommandError{Rule: RuleReturnTarget}
	ErrUrgeTooSoon        = &CommandError{Rule: RuleUrgeTooSoon}
	ErrNoExtension        = &CommandError{Rule: RuleNoExtension}
	ErrExtensionUsed      = &CommandError{Rule: RuleExtensionUsed}
	ErrExtensionTooLong   = &CommandError{Rule: RuleExtensionTooLong}
	ErrCondition          = &CommandError{Rule: RuleCondition}
	ErrBadSignature       = &CommandError{Rule: RuleBadSignature}
	ErrSignatureRequired  = &CommandError{Rule: RuleSignatureRequired}
)

// ErrVersionConflict is returned by [Store.Append] when the case's version
// is no longer the expected one (another command was appended first, or
// an idempotency key was used). The engine turns it into RuleStaleVersion
// or, for a retried command, into the original result.
var ErrVersionConflict = errors.New("approval: version conflict")

// ErrCaseNotFound is returned by [Store.Events] for a case with no events.
var ErrCaseNotFound = errors.New("approval: case not found")

func refuse(kind CommandKind, rule, format string, args ...any) *CommandError {
	return &CommandError{Rule: rule, Command: kind, Message: fmt.Sprintf(format, args...)}
}

// RuleOf returns the rule id of a refused command, "" for any other error.
func RuleOf(err error) string {
	var ce *CommandError
	if errors.As(err, &ce) {
		return ce.Rule
	}
	return ""
}
