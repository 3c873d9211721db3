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
package approval
