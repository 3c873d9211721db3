// Package approval runs approval without a visit (不见面审批): a department
// declares how a matter is handled as data, a process definition, and
// embeds the engine that runs each application through it.
//
// # Process definitions
//
// A [Definition] is a JSON document (schema: [DefinitionSchema], $id
// [DefinitionSchemaID]) that names the matter, its time limits and its
// steps (环节). Each step has assignees (a user, a role or an organisation
// by 统一社会信用代码, which the embedding system resolves) and a mode:
//
//	single      一人办理  one assignee acts
//	all         会签      every assignee must approve
//	any         或签      the first approval decides
//	sequential  依次      assignees act one after another, in order
//	quorum      k of n    k approvals decide
//
// A review step (审查) goes on through its branches, tried in order; a
// branch may carry a condition on the application, a CEL expression such
// as
//
//	application.registeredCapital >= 10000000 || application.hazardous == true
//
// and the last branch has none, so that every case has somewhere to go. A
// decision step (决定) grants or denies and ends the case. Conditions are
// compiled and type-checked when the definition is loaded; CEL has no
// loops or side effects, and each evaluation runs under a cost limit
// ([ConditionCostLimit]). Time limits are written 20wd (working days), 30d
// (natural days) or 48h (hours): the case's legal limit (法定时限,
// 行政许可法 第四十二条: 20 working days, extendable by 10 with the approval of
// the organ's head), its promised limit (承诺时限) and each step's own.
//
// [ParseDefinition] reports every problem at once, each with a JSON
// Pointer and a stable rule id, as a [*DefinitionError]: the schema's
// violations, and unknown or duplicate step ids, unreachable steps, steps
// without assignees, conditions that do not compile or are not boolean,
// branch lists that can match nothing, cycles with no exit to a decision,
// step limits beyond the legal one, and application schemas that do not
// compile (external $refs are refused). egovkit approval check does the
// same from the command line.
//
// # The engine: a case is its event log
//
// An [Engine] runs cases (办件) on a [Store]. [Engine.Start] submits an
// application, checked against the definition's application schema, and
// starts a case at the start step in status submitted (待受理), owned by
// the definition's department or, with StartCommand.Department, by
// another handling department (承办部门) that the case was routed to: the
// steps the definition assigns to its own department then go to that
// one. Every other command goes through [Engine.Execute]:
//
//	accept / refuse            受理 / 不予受理 (with reason), at the start step
//	requestCorrection / resubmit  补正告知 (the legal clock pauses) / the applicant resubmits
//	approve / reject           同意 / 不同意 (with reason), at a review step
//	decide                     决定: granted or denied (denial with reasons), at a decision step
//	return                     退回: to any earlier step of the case, or to the applicant
//	withdraw                   撤回, by the applicant before the case ends, where allowWithdraw
//	transfer                   转交 a task to another user
//	addSigner                  加签 before (前加签), after (后加签) or alongside (并加签) oneself
//	comment, copy, urge        意见, 抄送, 催办 (rate-limited per task by urgeInterval, in h, d or wd)
//	extend                     延长期限, once, at most limits.extension, naming the approving head
//
// Each step gets one [Task] per assignee; a role or an organisation is one
// task that any of its members may take, as the embedding system's
// [Directory] says. The mode decides when the step is done: single and
// all (会签) need every task approved, any (或签) the first approval,
// sequential (依次) opens the tasks one after another, quorum k approvals;
// a rejection that makes approval impossible rejects the step, which ends
// the case (rejected), or at a decision step denies. A task with signers
// added (加签) counts as one vote: approved when the owner and all its
// signers approve, rejected when any rejects. One user casts at most one
// vote per step. When a review step is done, the first branch whose
// condition holds on the application names the next step.
//
// A command is checked against the case's status and step and against
// the actor; a refused command returns a [*CommandError] with a stable
// rule id (RuleWrongState approval.command.wrong-state, RuleNotAssignee,
// RuleStaleVersion, RuleWithdrawNotAllowed, …; match them with errors.Is
// against [ErrWrongState] and its siblings) and changes nothing. A command
// that passes appends exactly one [Event]; nothing else is stored. The
// state, a [Case], is derived by replaying the log ([Replay], a pure
// function: replaying the first k events gives the state at version k),
// so the log is the case: its steps, tasks, decision, copies (抄送, at
// submission and at the end per copyTo) and [Mark]s, the clock-relevant
// facts (accepted, step entered, paused, resumed, extended, ended) that
// drive its time-limit clocks (below); [Case] also carries the limits
// (legal, extension, promised, and the current step's) for them.
//
// Every event records its actor, its time from the engine's clock
// ([Config].Clock: tests inject one, nothing reads the wall clock in the
// engine's logic) and the previous event's hash: a SHA-256 chain over the
// event's RFC 8785 (JCS) canonical form ([Event.Canonical], through
// package signature/jcs; events stored before the switch, in
// encoding/json's form of the same content, still verify under their
// hashes). [VerifyChain] detects an altered, removed, inserted or
// reordered event; keep the case's Head elsewhere to detect a log cut
// short.
//
// # Signed decisions
//
// A decision event (accept, refuse, approve, reject, return, extend,
// decide: [EventType.IsDecision]) can be signed with its actor's key: the
// command carries an [EventSigner] (a *signature.Signer, or the embedding
// system's signing service or token), the engine marks the event signed
// (Event.Signed, inside the hash), signs its canonical form as a detached
// JWS (Event.Signature, outside the hash) and verifies the signature under
// its [SignaturePolicy] before storing anything: the signature.Verifier's
// trust anchors, algorithms and revocation checks, and a
// [CertificateOwner] that says whose certificate it is ([PinnedCertificates]
// for a fixed list). A forged, broken or foreign signature is refused with
// RuleBadSignature and changes nothing; a policy's Require list makes
// signatures mandatory (RuleSignatureRequired). [Engine.Verify] and
// [VerifySignatures] check the stored signatures again: one changed,
// removed, or added to an event not marked signed is a [*SignatureError]
// with a rule id.
//
// # Time limits
//
// Each case owns deadline clocks, derived from its [Mark]s by a pure
// function ([Case.Clocks]), so they replay with the case and never depend
// on the wall clock: the legal clock runs from acceptance (受理, the day of
// acceptance not counted) over limits.legal, is suspended by a correction
// request (补正) or a return to the applicant (退回) until the applicant
// resubmits (行政许可法 第三十二条, 第四十五条), grows by the extension
// (延长期限, at most limits.extension, with the approving head:
// 第四十二条) and finishes when the case ends; it also carries the promised
// limit (承诺时限). The current step's clock runs from the step's entry
// over its limit, with the same suspensions. Both count working days on
// the engine's [Config].Calendar (deadline.China() by default) with the
// default card ladder (a warning 3 working days before the due date, a
// yellow card once it has passed, a red card 5 working days later).
// [Case.Timing] answers at any instant: whether the limit runs yet, the
// status (running, paused, warning, yellow, red, done-on-time,
// done-late), the due dates, the time left and the card level, for the
// case and for its step. With [Config].Monitor the engine feeds a
// deadline.Monitor as commands land: the legal clock of every accepted,
// open case ([LegalClockID]), under the definition's department, dropped
// when the case ends, and with MonitorSteps the step clocks
// ([StepClockID]); [Engine.TrackCase] feeds it again after a restart. The
// caller ticks the monitor, which issues each card once.
//
// Commands carry the version the actor saw (optimistic concurrency: of two
// reviewers acting on the same version, one succeeds and the other gets
// RuleStaleVersion, never a lost update) and an idempotency key (a retry
// returns the original event and state, with Result.Retried). The store
// enforces both with unique constraints, so they hold across engine
// instances and processes sharing one database.
//
// # Queries and stores
//
// [Engine.Inbox] lists a user's pending tasks (待办), those assigned by
// name and those of the user's roles and organisations; [Engine.Cases]
// lists cases by status, department, definition and card (预警, 黄牌,
// 红牌 at an instant: each command stores when the case's legal clock will
// reach each level if nothing else happens, [CardTimes], so the query
// reads no clocks); [Engine.History]
// returns a case's verified log. Stores: [NewMemoryStore] for tests,
// [OpenSQLite] (embedded, WAL, synchronous=FULL: a command that returned
// is on disk) and [OpenPostgres] for several nodes ([OpenStore] takes
// either by URL), both on egovkit's internal SQL plumbing, where
// concurrent commands share one commit (group commit). All three pass one conformance suite.
//
// An engine keeps snapshots of the cases it last loaded or wrote
// ([Config].CacheSize), keyed by case id and version, so that a command
// on a case it knows neither reloads nor replays the log. A snapshot is
// only a guess: the event built on it is appended after its version, and
// if another engine or process got there first the store's version rule
// refuses it, the engine drops the snapshot and the actor retries on the
// reloaded case. A command trusts what its own engine wrote; [Engine.Case],
// [Engine.History] and [Engine.Verify] always read and check the store.
//
// # Command scripts
//
// [DecodeCommand] reads one line of a command script (JSON Lines), the
// input of egovkit approval replay, which starts one case in a temporary
// store, applies the lines and prints ok or the rule id for each, then
// the final state as JSON: the case id, status, current step, pending
// tasks and their assignees, decision, version, limits and extension, the
// legal due date ("due", null until the case is accepted), the card
// ("card": none, warning, yellow or red) and the clocks ("clock": status,
// due and promised due dates, time left, and the current step's clock),
// read at --at or the last line's time on --calendar (cn, a calendar
// file, or cn,FILE):
//
//	{"cmd":"start","actor":"alice","application":{"enterprise":"甲","orgId":"91500000MA5U7X3P0D","registeredCapital":20000000}}
//	{"cmd":"accept","actor":"clerk1"}
//	{"cmd":"approve","actor":"rev1","key":"k-7"}
//	{"cmd":"addSigner","actor":"env1","users":["expert1"],"position":"before"}
//	{"cmd":"return","actor":"fire1","to":"review","reason":"复核"}
//	{"cmd":"decide","actor":"head1","decision":"granted","reason":"符合条件","at":"2026-01-06T10:00:00+08:00"}
package approval
