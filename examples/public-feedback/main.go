// Command public-feedback simulates online public consultation (网络问政) in
// a city: citizens leave complaints (投诉), reports (举报), enquiries (咨询),
// evaluations (评价) and suggestions (建议) on the 12345 platform; a routing
// table sends each to the responsible department, where it runs as an
// approval case on its kind's process definition, with a limit to accept
// (签收受理, the start step's limit) and a limit to answer (the legal limit,
// counted from acceptance in working days on China's calendar). A
// department that needs more time asks for an extension, which a
// supervisor approves or refuses as a case of its own; an approved one
// lengthens the answer limit. The answer is a letter (函) sealed by the
// department, which the citizen verifies; the citizen then evaluates it,
// and an unsatisfied evaluation is reopened (重新交办) or escalated to the
// supervisor (督办) as the satisfaction definition's branches say. The
// engine feeds every limit to a deadline monitor, and a fake clock moves
// day by day from Monday 2026-04-20 through the 劳动节 holiday, so a
// department that lets a message run over gets a yellow card (黄牌), and a
// red card (红牌) if it still has not answered five working days later.
//
// The rules are data: city.json (departments, routing, which definition
// each kind runs on) and definitions/*.json (approval/1 definitions:
// egovkit approval check validates them). Edit a copy and run it with
// --city DIR to see a city's changed rules take effect without code. The
// limits in them are this example city's configuration, not quoted from a
// regulation (README.md says why).
//
//	go run ./examples/public-feedback              # the account and a summary per department
//	go run ./examples/public-feedback --json       # the same for machines
//	go run ./examples/public-feedback --city DIR   # with the configuration in DIR
//
// It exits non-zero if any step fails.
package main

import (
	"context"
	"embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/egovkit/egovkit/approval"
	"github.com/egovkit/egovkit/examples/internal/columns"
)

//go:embed city.json definitions/*.json
var embedded embed.FS

func main() {
	asJSON := flag.Bool("json", false, "print the report as JSON")
	dir := flag.String("city", "", "read city.json and the definitions it names from `DIR` instead of the built-in ones")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "public-feedback: unexpected argument %q; expected only flags\n", flag.Arg(0))
		os.Exit(2)
	}
	var fsys fs.FS = embedded
	if *dir != "" {
		fsys = os.DirFS(*dir)
	}
	rep, err := run(context.Background(), fsys, scenario)
	if err == nil {
		if *asJSON {
			err = writeJSON(os.Stdout, rep)
		} else {
			writeText(os.Stdout, rep)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "public-feedback:", err)
		os.Exit(1)
	}
}

// writeJSON prints the report as indented JSON.
func writeJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeText prints the account, the cases and the summary per department.
func writeText(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "网络问政 (online public consultation), %s: %d messages, %d cases, %s to %s (%d working days)\n\n",
		rep.City, rep.Messages, len(rep.Cases), rep.From, rep.To, rep.WorkingDays)
	fmt.Fprintln(w, "account:")
	for _, e := range rep.Account {
		fmt.Fprintf(w, "  %s  %s\n", e.Date, e.Text)
	}
	fmt.Fprintln(w, "\ncases (accepted, answer due, answered, cards, evaluation):")
	for _, c := range rep.Cases {
		var cards []string
		for _, k := range c.Cards {
			if k.Level != "warning" {
				cards = append(cards, k.Level+"@"+k.Clock)
			}
		}
		card := "none"
		if len(cards) > 0 {
			card = strings.Join(cards, ",")
		}
		due := c.Due
		if c.Extension != nil && c.Extension.Granted {
			due = c.Extension.DueBefore + "→" + c.Extension.DueAfter
		}
		fmt.Fprintf(w, "  %-10s %s %s  %s  accepted %s, due %s, answered %s %s, cards %s, %s\n",
			c.ID, c.KindName, columns.Pad(c.DepartmentShort, 16), columns.Pad(statusLabel(c.Status), 8), orDash(c.Accepted), orDash(due), orDash(c.Answered), timeliness(c), card, evaluation(c))
	}
	fmt.Fprintln(w, "\nsummary per department (cases, answered on time / late, extensions granted / denied, refused; cards: warning / yellow / red; satisfied / unsatisfied, reopened, escalated):")
	fmt.Fprintf(w, "  %s %5s %7s %5s %5s %7s %7s %8s %7s %4s %6s %8s %6s %6s\n", columns.Pad("department", 18), "cases", "on-time", "late", "ext", "denied", "refused", "warning", "yellow", "red", "satis", "unsatis", "reopen", "escal")
	for _, d := range rep.Departments {
		fmt.Fprintf(w, "  %s %5d %7d %5d %5d %7d %7d %8d %7d %4d %6d %8d %6d %6d\n", columns.Pad(d.Short, 18), d.Cases, d.OnTime, d.Late, d.Extended, d.ExtDenied, d.Refused,
			d.Warnings, d.Yellow, d.Red, d.Satisfied, d.Unsatisfied, d.Reopened, d.Escalated)
	}
	fmt.Fprintf(w, "\nchecks: %d replies sealed and verified by their citizens; a tampered reply refused: %s; %d case logs verified (hash chains and replay)\n",
		rep.Checks.RepliesVerified, rep.Checks.TamperedRefused, rep.Checks.LogsVerified)
}

// statusLabel names a case's status as a consultation reads it: a decided
// case was answered (已答复).
func statusLabel(s approval.Status) string {
	switch s {
	case approval.StatusGranted:
		return "answered"
	case approval.StatusRefused:
		return "refused"
	}
	return string(s)
}

// timeliness says whether an answered case was answered in time.
func timeliness(c CaseReport) string {
	switch {
	case c.Answered == "":
		return ""
	case c.OnTime:
		return "(on time)"
	default:
		return "(late)"
	}
}

// evaluation says how the citizen evaluated the answer and what followed.
func evaluation(c CaseReport) string {
	switch {
	case c.Satisfied == nil:
		return "not evaluated"
	case *c.Satisfied:
		return "satisfied"
	default:
		return "unsatisfied → " + c.Evaluation
	}
}

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
