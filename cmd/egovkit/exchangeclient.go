package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/exchange"
)

func init() {
	register(&command{name: "send", summary: "send a document (DOC.json or a .egd package) from a node to other organs", run: runSend})
	register(&command{name: "outbox", summary: "the documents a node sent, with each recipient's state", run: runOutbox})
	register(&command{name: "inbox", summary: "the documents a node received, with their states", run: runInbox})
	register(&command{name: "sign-for", summary: "sign for (签收) a received document", run: runSignFor})
	register(&command{name: "return", summary: "return (退回) a received document, with the reason", run: runReturn})
	register(&command{name: "recall", summary: "recall (撤回) a sent document not yet signed for", run: runRecall})
	register(&command{name: "urge", summary: "urge (催办) the recipients of a sent document not yet signed for", run: runUrge})
}

const clientNote = `
Works directly on the node's store and spool, as the configuration names
them, so it runs on the node's machine, with or without "egovkit gateway"
running. Unless --no-deliver is given, it then delivers what is due at
once (what fails, the gateway's outbox worker retries).` + clientExit

// listNote is the help's closing note of the commands that only read.
const listNote = `
Reads the node's store and spool directly, as the configuration names
them, so it runs on the node's machine, with or without "egovkit gateway"
running; it delivers nothing.` + clientExit

const clientExit = `

Exit status: 0 success, 1 refused (the document's state does not allow it,
or the input is invalid), 2 usage or I/O error.`

// clientFlags are the flags every client command shares.
type clientFlags struct {
	config    *string
	json      *bool
	noDeliver *bool
}

func addClientFlags(fs *flag.FlagSet, deliver bool) clientFlags {
	c := clientFlags{config: fs.String("config", "", "the node's configuration `FILE` (required)"), json: fs.Bool("json", false, "print JSON")}
	if deliver {
		c.noDeliver = fs.Bool("no-deliver", false, "only store the message; leave delivery to the gateway")
	}
	return c
}

// openClient opens the node of a client command.
func openClient(ctx context.Context, e *env, fs *flag.FlagSet, cf clientFlags) (*node, int, bool) {
	if *cf.config == "" {
		return nil, usageError(e, fs, "--config FILE is required"), false
	}
	n, err := openNode(ctx, *cf.config, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit %s: %v\n", fs.Name(), err)
		return nil, exitUsage, false
	}
	return n, exitOK, true
}

// deliverNow delivers what is due, in batches of 100 while whole batches
// are delivered, unless --no-deliver.
func deliverNow(ctx context.Context, e *env, fs *flag.FlagSet, n *node, cf clientFlags) {
	if cf.noDeliver != nil && *cf.noDeliver {
		return
	}
	for {
		delivered, err := n.gw.DeliverDue(ctx, 100)
		if err != nil {
			fmt.Fprintf(e.stderr, "egovkit %s: delivering: %v (the gateway retries)\n", fs.Name(), err)
			return
		}
		if delivered < 100 {
			return
		}
	}
}

// failed reports an error of a client command with its exit status.
func failed(e *env, fs *flag.FlagSet, err error) int {
	var le *exchange.LifecycleError
	var pe *exchange.PayloadError
	var ve *docdoc.ValidationError
	switch {
	case errors.As(err, &le):
		fmt.Fprintf(e.stdout, "refused: %s: document %s is %s with %s\n", le.Rule, le.MessageID, le.Status, le.Peer)
		return exitInvalid
	case errors.As(err, &pe):
		for _, v := range pe.Violations {
			fmt.Fprintf(e.stdout, "refused: %s: %s\n", v.Rule, v.Message)
		}
		return exitInvalid
	case errors.As(err, &ve):
		for _, v := range ve.Violations {
			fmt.Fprintf(e.stdout, "invalid: %s: %s: %s\n", v.Pointer, v.Rule, v.Message)
		}
		return exitInvalid
	case errors.Is(err, exchange.ErrNotFound), errors.Is(err, exchange.ErrNoEncryptionKey), errors.Is(err, exchange.ErrNotEncryptedFor), errors.Is(err, exchange.ErrEncryptedCorrupt):
		fmt.Fprintf(e.stderr, "egovkit %s: %v\n", fs.Name(), err)
		return exitInvalid
	}
	fmt.Fprintf(e.stderr, "egovkit %s: %v\n", fs.Name(), err)
	return exitUsage
}

// recipientJSON is one recipient's state as the commands print it.
type recipientJSON struct {
	Recipient   string           `json:"recipient"`
	State       string           `json:"state"`
	Delivery    string           `json:"delivery"`
	Attempts    int              `json:"attempts"`
	LastError   string           `json:"lastError,omitempty"`
	DeliveredAt *time.Time       `json:"deliveredAt,omitempty"`
	By          *exchange.Person `json:"by,omitempty"`
	Reason      string           `json:"reason,omitempty"`
	At          *time.Time       `json:"at,omitempty"`
	Urges       int              `json:"urges,omitempty"`
	Refusal     *refusalJSON     `json:"refusal,omitempty"`
}

// refusalJSON is the recipient's verified negative receipt (拒收回执) that
// a dead letter keeps: the receipt message's id, when it was made, and the
// rule and reason it gives.
type refusalJSON struct {
	Receipt string    `json:"receipt"`
	At      time.Time `json:"at"`
	Rule    string    `json:"rule"`
	Reason  string    `json:"reason"`
}

type sentJSON struct {
	ID           string          `json:"id"`
	DocumentType string          `json:"documentType,omitempty"`
	Created      time.Time       `json:"created"`
	Recipients   []recipientJSON `json:"recipients"`
	Encrypted    bool            `json:"encrypted,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func optPerson(p exchange.Person) *exchange.Person {
	if p == (exchange.Person{}) {
		return nil
	}
	return &p
}

func sentView(ctx context.Context, n *node, id string) (sentJSON, error) {
	rs, err := n.gw.Sent(ctx, id)
	if err != nil {
		return sentJSON{}, err
	}
	out := sentJSON{ID: id}
	for _, r := range rs {
		rj := recipientJSON{Recipient: r.Recipient.String(), State: r.State(), Delivery: r.Delivery, Attempts: r.Attempts, LastError: r.LastError,
			By: optPerson(r.Document.By), Reason: r.Document.Reason, At: optTime(r.Document.At), Urges: r.Document.Urges}
		if r.DeliveryReceipt != nil {
			rj.DeliveredAt = optTime(r.DeliveryReceipt.Created.UTC())
		}
		if r.RefusalReceipt != nil && r.Refusal != nil {
			rj.Refusal = &refusalJSON{Receipt: r.RefusalReceipt.ID, At: r.RefusalReceipt.Created.UTC(), Rule: r.Refusal.Rule, Reason: r.Refusal.Reason}
		}
		if out.DocumentType == "" {
			out.DocumentType = r.Document.DocumentType
		}
		if out.Created.IsZero() || r.Document.Created.Before(out.Created) {
			out.Created = r.Document.Created
		}
		out.Recipients = append(out.Recipients, rj)
	}
	return out, nil
}

func printSent(w io.Writer, views []sentJSON) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE\tTYPE\tRECIPIENT\tSTATE\tDETAIL")
	for _, v := range views {
		for _, r := range v.Recipients {
			var detail []string
			if r.By != nil {
				detail = append(detail, "by "+r.By.String())
			}
			if r.Reason != "" {
				detail = append(detail, "reason: "+r.Reason)
			}
			if r.Urges > 0 {
				detail = append(detail, fmt.Sprintf("urged %d×", r.Urges))
			}
			if r.LastError != "" && r.State != exchange.StateDelivered {
				detail = append(detail, fmt.Sprintf("after %d attempt(s): %s", r.Attempts, r.LastError))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.ID, v.DocumentType, r.Recipient, r.State, strings.Join(detail, "; "))
		}
	}
	tw.Flush()
}

// collectViews is the view of each message id, in order.
func collectViews[T any](ctx context.Context, n *node, ids []string, view func(context.Context, *node, string) (T, error)) ([]T, error) {
	views := make([]T, 0, len(ids))
	for _, id := range ids {
		v, err := view(ctx, n, id)
		if err != nil {
			return nil, err
		}
		views = append(views, v)
	}
	return views, nil
}

// printStates prints the client commands' views: the table, or with
// --json an array of objects, or the one object when the command is
// about one message (one).
func printStates[T any](e *env, asJSON, one bool, views []T, table func(io.Writer, []T)) {
	switch {
	case !asJSON:
		table(e.stdout, views)
	case one:
		_ = printJSON(e.stdout, views[0])
	default:
		_ = printJSON(e.stdout, views)
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runSend(ctx context.Context, e *env, args []string) int {
	fs := flagSet(e, "send", "send --config FILE --to ORG-ID[/NODE] [--to ...] [--json] [--no-deliver] DOC.json|PKG.egd...", `
Sends official documents from this node, each file as its own message: a
document as JSON (validated first; media type `+docdoc.DocumentMediaType+`)
or a document package made by egovkit pack (checked first; `+docdoc.MediaType+`).
The document type in the envelope is the document's. Each --to names a
member organ by its 统一社会信用代码, and optionally its node (the organ's
first node otherwise); every file goes to all of them. A classified
document (classification set), or any with --encrypt, is encrypted to
each recipient with the key the directory lists for it (X25519 +
ChaCha20-Poly1305, or SM2 + SM4-GCM; recipients with keys of different
kinds take separate sends). Each message is stored in the outbox with the
document's state per recipient; the command prints its id and each
recipient's state (with --json, one object for one file, an array in the
order of the files for several).

Every file is checked before any is stored: when one is invalid, nothing
is sent. A payload is streamed from its file and never held in memory.`+clientNote)
	cf := addClientFlags(fs, true)
	var to repeated
	fs.Var(&to, "to", "a recipient `ORG-ID[/NODE]` (repeatable, at least one)")
	encrypt := fs.Bool("encrypt", false, "encrypt unclassified documents too")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return usageError(e, fs, "expected at least one DOC.json or PKG.egd")
	}
	n, code, ok := openClient(ctx, e, fs, cf)
	if !ok {
		return code
	}
	defer n.Close()
	dir, err := n.gw.Directory().Current()
	if err != nil {
		return failed(e, fs, err)
	}
	recipients, err := recipientsFor(dir, to)
	if err != nil {
		return usageError(e, fs, "%v", err)
	}
	type outgoing struct {
		path, mediaType string
		docType         docdoc.Type
		encrypt         bool
	}
	docs := make([]outgoing, len(pos))
	for i, p := range pos {
		docType, mediaType, classified, err := inspectDocument(p)
		if err != nil {
			if len(pos) > 1 {
				fmt.Fprintf(e.stderr, "egovkit send: %s: nothing sent\n", p)
			}
			return failed(e, fs, err)
		}
		docs[i] = outgoing{path: p, mediaType: mediaType, docType: docType, encrypt: classified || *encrypt}
		if docs[i].encrypt {
			// The recipients need encryption keys of one kind.
			if _, err := exchange.SuiteFor(dir, recipients); err != nil {
				if len(pos) > 1 {
					fmt.Fprintf(e.stderr, "egovkit send: %s: nothing sent\n", p)
				}
				return failed(e, fs, err)
			}
		}
	}
	ids := make([]string, 0, len(docs))
	encrypted := map[string]bool{}
	for _, d := range docs {
		var env *exchange.Envelope
		if d.encrypt {
			env, err = n.gw.SendEncryptedFile(ctx, recipients, d.docType, d.mediaType, d.path)
		} else {
			env, err = n.gw.SendFile(ctx, recipients, d.docType, d.mediaType, d.path)
		}
		if err != nil {
			if len(ids) > 0 {
				fmt.Fprintf(e.stderr, "egovkit send: %s: not sent; the %d file(s) before it were stored as %s\n", d.path, len(ids), strings.Join(ids, " "))
			}
			return failed(e, fs, err)
		}
		ids = append(ids, env.ID)
		encrypted[env.ID] = env.Payload.MediaType == exchange.EncryptedMediaType
	}
	deliverNow(ctx, e, fs, n, cf)
	views := make([]sentJSON, len(ids))
	for i, id := range ids {
		if views[i], err = sentView(ctx, n, id); err != nil {
			return failed(e, fs, err)
		}
		views[i].Encrypted = encrypted[id]
	}
	printStates(e, *cf.json, len(views) == 1, views, printSent)
	return exitOK
}

// inspectDocument checks a document file and returns its type and media
// type: a package (a zip) or a JSON document.
func inspectDocument(path string) (docdoc.Type, string, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", false, err
	}
	defer f.Close()
	head, _ := bufio.NewReader(f).Peek(4)
	if string(head) == "PK\x03\x04" {
		st, err := f.Stat()
		if err != nil {
			return "", "", false, err
		}
		p, err := docdoc.OpenPackage(f, st.Size(), docdoc.DefaultPackageLimits)
		if err != nil {
			return "", "", false, err
		}
		return p.Document.Type, docdoc.MediaType, p.Document.Classification != nil, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", "", false, err
	}
	doc, err := docdoc.Parse(f)
	if err != nil {
		return "", "", false, err
	}
	return doc.Type, docdoc.DocumentMediaType, doc.Classification != nil, nil
}

func runOutbox(ctx context.Context, e *env, args []string) int {
	fs := flagSet(e, "outbox", "outbox --config FILE [--json] [--limit N] [MESSAGE-ID]", `
Lists the documents this node sent, newest first, one line per recipient
with its state: stored (not yet delivered), delivered (with the recipient's
signed delivery receipt), signedFor (and by whom), returned (and why),
recalled, or dead (dead-lettered, and why). With a MESSAGE-ID, that message
only, of any kind (a receipt or recall this node sent, too).`+listNote)
	cf := addClientFlags(fs, false)
	limit := fs.Int("limit", 50, "at most `N` documents")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	if len(pos) > 1 {
		return usageError(e, fs, "expected at most one MESSAGE-ID")
	}
	n, code, ok := openClient(ctx, e, fs, cf)
	if !ok {
		return code
	}
	defer n.Close()
	var ids []string
	if len(pos) == 1 {
		ids = pos
	} else {
		states, err := n.gw.Store().ListDocuments(ctx, exchange.RoleSender, *limit*1000)
		if err != nil {
			return failed(e, fs, err)
		}
		seen := map[string]bool{}
		for _, st := range states {
			if !seen[st.MessageID] && len(ids) < *limit {
				seen[st.MessageID] = true
				ids = append(ids, st.MessageID)
			}
		}
	}
	views, err := collectViews(ctx, n, ids, sentView)
	if err != nil {
		return failed(e, fs, err)
	}
	printStates(e, *cf.json, false, views, printSent)
	return exitOK
}

// receivedJSON is a received document's state as the commands print it.
type receivedJSON struct {
	ID           string           `json:"id"`
	Sender       string           `json:"sender"`
	DocumentType string           `json:"documentType"`
	State        string           `json:"state"`
	Received     time.Time        `json:"received"`
	MediaType    string           `json:"mediaType"`
	Size         int64            `json:"size"`
	By           *exchange.Person `json:"by,omitempty"`
	Reason       string           `json:"reason,omitempty"`
	At           *time.Time       `json:"at,omitempty"`
	Urges        int              `json:"urges,omitempty"`
	LastUrged    *time.Time       `json:"lastUrged,omitempty"`
	// Reply is the delivery state of the receipt this node sent back.
	Reply string `json:"reply,omitempty"`
}

func receivedView(ctx context.Context, n *node, id string) (receivedJSON, error) {
	rd, err := n.gw.Received(ctx, id)
	if err != nil {
		return receivedJSON{}, err
	}
	d := rd.Document
	v := receivedJSON{ID: id, Sender: d.Peer.String(), DocumentType: d.DocumentType, State: string(d.Status), Received: rd.Received,
		MediaType: rd.Envelope.Payload.MediaType, Size: rd.Envelope.Payload.Size, By: optPerson(d.By), Reason: d.Reason, At: optTime(d.At), Urges: d.Urges, LastUrged: optTime(d.LastUrged)}
	if len(rd.Reply) > 0 {
		v.Reply = rd.Reply[0].State
	}
	return v, nil
}

func printReceived(w io.Writer, views []receivedJSON) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE\tTYPE\tSENDER\tSTATE\tDETAIL")
	for _, v := range views {
		var detail []string
		if v.By != nil {
			detail = append(detail, "by "+v.By.String())
		}
		if v.Reason != "" {
			detail = append(detail, "reason: "+v.Reason)
		}
		if v.Urges > 0 {
			detail = append(detail, fmt.Sprintf("urged %d×", v.Urges))
		}
		if v.Reply != "" {
			detail = append(detail, "receipt "+v.Reply)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.ID, v.DocumentType, v.Sender, v.State, strings.Join(detail, "; "))
	}
	tw.Flush()
}

func runInbox(ctx context.Context, e *env, args []string) int {
	fs := flagSet(e, "inbox", "inbox --config FILE [--json] [--limit N] [MESSAGE-ID]", `
Lists the documents this node received, newest first, with their states:
awaiting (not yet signed for), signedFor (by whom), returned (why) or
recalled (by the sender), the urges received, and the delivery of the
receipt sent back. --json adds the path of each spooled payload (for an
encrypted one, the ciphertext); --save writes a document's payload,
decrypted with the node's encryption key.`+listNote)
	cf := addClientFlags(fs, false)
	limit := fs.Int("limit", 50, "at most `N` documents")
	save := fs.String("save", "", "with a MESSAGE-ID: write its payload, decrypted, to `FILE` (not overwritten)")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	if len(pos) > 1 || *save != "" && len(pos) != 1 {
		return usageError(e, fs, "expected at most one MESSAGE-ID, and one with --save")
	}
	n, code, ok := openClient(ctx, e, fs, cf)
	if !ok {
		return code
	}
	defer n.Close()
	if *save != "" {
		if err := savePayload(ctx, n, pos[0], *save); err != nil {
			return failed(e, fs, err)
		}
	}
	ids := pos
	if len(pos) == 0 {
		states, err := n.gw.Store().ListDocuments(ctx, exchange.RoleRecipient, *limit)
		if err != nil {
			return failed(e, fs, err)
		}
		for _, st := range states {
			ids = append(ids, st.MessageID)
		}
	}
	views, err := collectViews(ctx, n, ids, receivedView)
	if err != nil {
		return failed(e, fs, err)
	}
	printStates(e, *cf.json, false, views, printReceived)
	return exitOK
}

// runAnswer is sign-for and return: it answers a received document.
func runAnswer(ctx context.Context, e *env, args []string, ret bool) int {
	name, synopsis, details := "sign-for", "sign-for --config FILE --by NAME [--by-id ID] [--json] [--no-deliver] MESSAGE-ID", `
Signs for (签收) a document this node received, recording who signed for
it, and sends the sender a signed receipt saying so. A document that was
recalled, or already signed for or returned, is refused.`
	if ret {
		name, synopsis, details = "return", "return --config FILE --reason TEXT [--by NAME] [--by-id ID] [--json] [--no-deliver] MESSAGE-ID", `
Returns (退回) a document this node received, with the reason (required),
and sends the sender a signed receipt saying so. A document that was
recalled, or already signed for or returned, is refused.`
	}
	fs := flagSet(e, name, synopsis, details+clientNote)
	cf := addClientFlags(fs, true)
	by := fs.String("by", "", "who signs for or returns it (签收人), by `NAME`")
	byID := fs.String("by-id", "", "that person's user `ID` in this organ's system")
	var reason *string
	if ret {
		reason = fs.String("reason", "", "why it is returned (退回理由), `TEXT` (required)")
	}
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	switch {
	case len(pos) != 1:
		return usageError(e, fs, "expected one MESSAGE-ID")
	case !ret && *by == "":
		return usageError(e, fs, "--by NAME is required")
	case ret && strings.TrimSpace(*reason) == "":
		return usageError(e, fs, "--reason TEXT is required")
	case *byID != "" && *by == "":
		return usageError(e, fs, "--by-id needs --by")
	}
	n, code, ok := openClient(ctx, e, fs, cf)
	if !ok {
		return code
	}
	defer n.Close()
	p := exchange.Person{Name: *by, ID: *byID}
	var err error
	if ret {
		_, err = n.gw.Return(ctx, pos[0], p, *reason)
	} else {
		_, err = n.gw.SignFor(ctx, pos[0], p)
	}
	if err != nil {
		return failed(e, fs, err)
	}
	deliverNow(ctx, e, fs, n, cf)
	v, err := receivedView(ctx, n, pos[0])
	if err != nil {
		return failed(e, fs, err)
	}
	printStates(e, *cf.json, true, []receivedJSON{v}, printReceived)
	return exitOK
}

func runSignFor(ctx context.Context, e *env, args []string) int {
	return runAnswer(ctx, e, args, false)
}
func runReturn(ctx context.Context, e *env, args []string) int { return runAnswer(ctx, e, args, true) }

// runNotify is recall and urge.
func runNotify(ctx context.Context, e *env, args []string, urge bool) int {
	name, synopsis, details := "recall", "recall --config FILE [--note TEXT] [--json] [--no-deliver] MESSAGE-ID", `
Recalls (撤回) a document this node sent from every recipient that has not
yet signed for or returned it, with an optional note saying why. The
recipients then refuse to sign for it. A recipient that signed for it
before the recall arrived keeps it, and its receipt counts. Refused when no
recipient is still awaiting.`
	if urge {
		name, synopsis, details = "urge", "urge --config FILE [--note TEXT] [--json] [--no-deliver] MESSAGE-ID", `
Urges (催办) every recipient of a document this node sent that has not yet
signed for or returned it, with an optional note; they record the urge.
Refused when no recipient is still awaiting.`
	}
	fs := flagSet(e, name, synopsis, details+clientNote)
	cf := addClientFlags(fs, true)
	note := fs.String("note", "", "why, or what is asked, `TEXT`")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(e, fs, "expected one MESSAGE-ID")
	}
	n, code, ok := openClient(ctx, e, fs, cf)
	if !ok {
		return code
	}
	defer n.Close()
	var err error
	if urge {
		_, err = n.gw.Urge(ctx, pos[0], *note)
	} else {
		_, err = n.gw.Recall(ctx, pos[0], *note)
	}
	if err != nil {
		return failed(e, fs, err)
	}
	deliverNow(ctx, e, fs, n, cf)
	v, err := sentView(ctx, n, pos[0])
	if err != nil {
		return failed(e, fs, err)
	}
	printStates(e, *cf.json, true, []sentJSON{v}, printSent)
	return exitOK
}

func runRecall(ctx context.Context, e *env, args []string) int { return runNotify(ctx, e, args, false) }
func runUrge(ctx context.Context, e *env, args []string) int   { return runNotify(ctx, e, args, true) }

// savePayload writes a received message's payload, decrypted, to a new
// file; nothing is left behind when it fails.
func savePayload(ctx context.Context, n *node, id, path string) error {
	_, rc, err := n.gw.OpenPayload(ctx, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}
