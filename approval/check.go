package approval

import (
	"context"
	"slices"
	"time"

	"github.com/egovkit/egovkit/deadline"
)

// check decides whether a command may act on the case, and returns the
// facts of its event. It changes nothing.
func (e *Engine) check(ctx context.Context, def *Definition, c *Case, cmd *Command) (EventData, error) {
	k := cmd.Kind
	if err := checkText(k, map[string]string{"task": cmd.Task, "reason": cmd.Reason, "comment": cmd.Comment, "to": cmd.To, "approver": cmd.Approver, "key": cmd.IdempotencyKey, "actor": cmd.Actor}); err != nil {
		return EventData{}, err
	}
	wrongState := func(want string) error {
		if c.Status.Ended() {
			return refuse(k, RuleWrongState, "the case has ended (%s)", c.Status)
		}
		return refuse(k, RuleWrongState, "the case is %s at step %q; expected %s", c.Status, c.Step, want)
	}
	needReason := func(what string) error {
		if cmd.Reason == "" {
			return refuse(k, RuleInvalid, "a reason is required: %s", what)
		}
		return nil
	}
	step := def.Step(c.Step)
	d := EventData{Step: c.Step, Reason: cmd.Reason, Comment: cmd.Comment}
	var err error
	switch k {
	case CmdAccept, CmdRefuse:
		if c.Status != StatusSubmitted {
			return d, wrongState("submitted (待受理)")
		}
		if k == CmdRefuse {
			if err := needReason("不予受理 must say why"); err != nil {
				return d, err
			}
		}
		d.Task, err = e.pickTask(ctx, c, cmd, true)
	case CmdRequestCorrection:
		if c.Status != StatusSubmitted && c.Status != StatusInReview {
			return d, wrongState("submitted or inReview")
		}
		if err := needReason("the correction notice (补正告知) lists what to correct"); err != nil {
			return d, err
		}
		d.Task, err = e.pickTask(ctx, c, cmd, false)
	case CmdResubmit:
		if c.Status != StatusCorrection && c.Status != StatusReturned {
			return d, wrongState("correction or returned")
		}
		if cmd.Actor != c.Applicant {
			return d, refuse(k, RuleNotApplicant, "only the applicant %s may resubmit", c.Applicant)
		}
		if cmd.Application != nil {
			if d.Application, err = checkApplication(k, def, cmd.Application); err != nil {
				return d, err
			}
		}
	case CmdApprove, CmdReject:
		if c.Status != StatusInReview || step.IsDecision() {
			return d, wrongState("inReview at a review step (accept at 受理, decide at 决定)")
		}
		if k == CmdReject {
			if err := needReason("不同意 must say why"); err != nil {
				return d, err
			}
		}
		d.Task, err = e.pickTask(ctx, c, cmd, true)
	case CmdDecide:
		if c.Status != StatusInReview || !step.IsDecision() {
			return d, wrongState("inReview at a decision step")
		}
		switch cmd.Decision {
		case Granted:
		case Denied:
			if err := needReason("a denial must give its reasons (行政许可法 第三十八条)"); err != nil {
				return d, err
			}
		default:
			return d, refuse(k, RuleInvalid, "decision %q; expected granted or denied", cmd.Decision)
		}
		d.Decision = cmd.Decision
		d.Task, err = e.pickTask(ctx, c, cmd, true)
	case CmdReturn:
		if c.Status != StatusInReview {
			return d, wrongState("inReview")
		}
		if err := needReason("退回 must say why"); err != nil {
			return d, err
		}
		switch {
		case cmd.ToApplicant && cmd.To != "":
			return d, refuse(k, RuleInvalid, "return either to a step or to the applicant")
		case cmd.ToApplicant:
			d.ToApplicant = true
		case !slices.Contains(c.Path[:len(c.Path)-1], cmd.To) || cmd.To == c.Step:
			return d, refuse(k, RuleReturnTarget, "step %q is not an earlier step of this case (%v); expected one of them, or toApplicant", cmd.To, c.Path[:len(c.Path)-1])
		default:
			d.To = cmd.To
		}
		d.Task, err = e.pickTask(ctx, c, cmd, false)
	case CmdWithdraw:
		if !def.AllowWithdraw {
			return d, refuse(k, RuleWithdrawNotAllowed, "definition %s does not allow withdrawal (allowWithdraw)", def.ID)
		}
		if cmd.Actor != c.Applicant {
			return d, refuse(k, RuleNotApplicant, "only the applicant %s may withdraw", c.Applicant)
		}
		if c.Status.Ended() {
			return d, wrongState("undecided")
		}
	case CmdTransfer:
		if c.Status != StatusSubmitted && c.Status != StatusInReview {
			return d, wrongState("submitted or inReview")
		}
		if cmd.To == "" || cmd.To == cmd.Actor {
			return d, refuse(k, RuleInvalid, "transfer needs a user to (not oneself)")
		}
		d.To = cmd.To
		d.Task, err = e.pickTask(ctx, c, cmd, false)
	case CmdAddSigner:
		if c.Status != StatusSubmitted && c.Status != StatusInReview {
			return d, wrongState("submitted or inReview")
		}
		if cmd.Position != Before && cmd.Position != After && cmd.Position != Alongside {
			return d, refuse(k, RuleInvalid, "position %q; expected before, after or alongside", cmd.Position)
		}
		if err := checkUsers(k, cmd.Users, cmd.Actor); err != nil {
			return d, err
		}
		d.Users, d.Position = cmd.Users, cmd.Position
		d.Task, err = e.pickTask(ctx, c, cmd, false)
		if err == nil && c.Task(d.Task).Owner != "" {
			return d, refuse(k, RuleNotAssignee, "task %s was itself added (加签); only the task's owner may add signers", d.Task)
		}
	case CmdComment:
		if cmd.Comment == "" {
			return d, refuse(k, RuleInvalid, "a comment needs its text")
		}
		err = e.involved(ctx, c, k, cmd.Actor)
	case CmdCopy:
		if err := checkUsers(k, cmd.Users, cmd.Actor); err != nil {
			return d, err
		}
		d.Users = cmd.Users
		err = e.involved(ctx, c, k, cmd.Actor)
	case CmdUrge:
		if c.Status != StatusSubmitted && c.Status != StatusInReview {
			return d, wrongState("submitted or inReview")
		}
		if cmd.Actor != c.Applicant && !slices.Contains(c.Participants, cmd.Actor) {
			return d, refuse(k, RuleNotApplicant, "only the applicant or a user who acted on the case may urge (催办)")
		}
		d.Task = cmd.Task
		err = e.checkUrge(def, c, cmd)
	case CmdExtend:
		if c.Status != StatusInReview {
			return d, wrongState("inReview")
		}
		d.Extension, d.Approver, err = checkExtension(def, c, cmd)
		if err == nil {
			d.Task, err = e.pickTask(ctx, c, cmd, false)
		}
	}
	return d, err
}

func checkUsers(k CommandKind, users []string, actor string) error {
	if len(users) == 0 || len(users) > MaxUsers {
		return refuse(k, RuleInvalid, "users: expected 1 to %d users", MaxUsers)
	}
	for i, u := range users {
		if u == "" || u == actor || slices.Contains(users[:i], u) || len(u) > MaxTextLength {
			return refuse(k, RuleInvalid, "users: %q is empty, oneself, too long or named twice", u)
		}
	}
	return nil
}

// pickTask finds the pending task the actor acts on: cmd.Task if given,
// else the first pending task assigned to the actor by name, else the
// first one assigned to a role or organisation of the actor. For a vote
// (vote true), an actor who already voted at this step is refused, so
// that one user cannot fill two places of a 会签.
func (e *Engine) pickTask(ctx context.Context, c *Case, cmd *Command, vote bool) (string, error) {
	k := cmd.Kind
	if vote {
		for _, t := range c.Tasks {
			if t.ActedBy == cmd.Actor {
				return "", refuse(k, RuleAlreadyActed, "%s already acted at step %q (task %s)", cmd.Actor, c.Step, t.ID)
			}
		}
	}
	if cmd.Task != "" {
		t := c.Task(cmd.Task)
		if t == nil {
			return "", refuse(k, RuleInvalid, "no task %q at step %q", cmd.Task, c.Step)
		}
		if t.State != TaskPending {
			return "", refuse(k, RuleWrongState, "task %s is %s; expected pending", t.ID, t.State)
		}
		ok, err := holds(ctx, e.dir, cmd.Actor, t.Assignee)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", refuse(k, RuleNotAssignee, "task %s is assigned to %s, not to %s", t.ID, t.Assignee, cmd.Actor)
		}
		return t.ID, nil
	}
	for _, byName := range []bool{true, false} {
		for _, t := range c.Tasks {
			if t.State != TaskPending || (t.Assignee.User != "") != byName {
				continue
			}
			ok, err := holds(ctx, e.dir, cmd.Actor, t.Assignee)
			if err != nil {
				return "", err
			}
			if ok {
				return t.ID, nil
			}
		}
	}
	return "", refuse(k, RuleNotAssignee, "%s holds no pending task at step %q", cmd.Actor, c.Step)
}

// involved reports whether the actor may comment on or copy the case:
// the applicant (comments only), a user who acted on it, one who may act
// at the current step, or one it was copied to (comments only).
func (e *Engine) involved(ctx context.Context, c *Case, k CommandKind, actor string) error {
	comment := k == CmdComment
	if slices.Contains(c.Participants, actor) || (comment && actor == c.Applicant) {
		return nil
	}
	var as []Assignee
	for _, t := range c.Tasks {
		if t.open() {
			as = append(as, t.Assignee)
		}
	}
	if comment {
		for _, cp := range c.Copies {
			as = append(as, cp.To)
		}
	}
	for _, a := range as {
		ok, err := holds(ctx, e.dir, actor, a)
		if err != nil || ok {
			return err
		}
	}
	return refuse(k, RuleNotAssignee, "%s has no part in case %s", actor, c.ID)
}

func (e *Engine) checkUrge(def *Definition, c *Case, cmd *Command) error {
	n, unit, ok := parseLimit(def.UrgeInterval)
	// next is the first instant a task urged at t may be urged again:
	// after the interval in hours or natural days, or at the same time of
	// day n working days later on the engine's calendar (natural days
	// where the calendar does not reach).
	next := func(t time.Time) time.Time {
		switch {
		case !ok:
			return t.Add(e.urge)
		case unit == "h":
			return t.Add(time.Duration(n) * time.Hour)
		case unit == "wd":
			d := deadline.DateOf(t, e.cal.Location())
			if w, err := e.cal.AddWorkdays(d, n); err == nil {
				return t.AddDate(0, 0, w.Sub(d))
			}
		}
		return t.AddDate(0, 0, n)
	}
	now := e.now()
	found := false
	for _, t := range c.Tasks {
		if t.State != TaskPending || (cmd.Task != "" && t.ID != cmd.Task) {
			continue
		}
		found = true
		if !t.UrgedAt.IsZero() && now.Before(next(t.UrgedAt)) {
			return refuse(CmdUrge, RuleUrgeTooSoon, "task %s was urged at %s; the next urge is allowed from %s", t.ID, t.UrgedAt.Format(time.RFC3339), next(t.UrgedAt).Format(time.RFC3339))
		}
	}
	if !found {
		return refuse(CmdUrge, RuleInvalid, "no pending task %q to urge", cmd.Task)
	}
	return nil
}

func checkExtension(def *Definition, c *Case, cmd *Command) (length, approver string, err error) {
	k := cmd.Kind
	if def.Limits.Extension == "" {
		return "", "", refuse(k, RuleNoExtension, "definition %s allows no extension of its legal limit", def.ID)
	}
	if c.Extension != nil {
		return "", "", refuse(k, RuleExtensionUsed, "the limit was extended at %s; it may be extended once", c.Extension.At.Format(time.RFC3339))
	}
	if cmd.Approver == "" || cmd.Reason == "" {
		return "", "", refuse(k, RuleInvalid, "an extension needs the approving head (approver) and the reason told to the applicant")
	}
	length = cmd.Extension
	if length == "" {
		length = def.Limits.Extension
	}
	n, unit, ok := parseLimit(length)
	if !ok {
		return "", "", refuse(k, RuleInvalid, "extension %q; expected a limit such as 10wd", length)
	}
	maxN, maxUnit, _ := parseLimit(def.Limits.Extension)
	if unit != maxUnit || n > maxN {
		return "", "", refuse(k, RuleExtensionTooLong, "extension %s; expected at most %s", length, def.Limits.Extension)
	}
	return length, cmd.Approver, nil
}
