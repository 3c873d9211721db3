package docdoc

import (
	"path"
	"strconv"
	"strings"
	"time"
)

// checkRules applies the rules of RULES.md that the schema cannot express.
// doc is the lenient typed view of tree; every rule checks only values that
// have the right shape, since the schema has reported the rest.
func checkRules(doc *Document, tree any, vs *violations) {
	m, _ := tree.(map[string]any)
	checkClassification(doc, m, vs)
	checkUpward(doc, m, vs)
	checkDocNumber(doc, m, vs)
	checkOrgIDs(doc, m, vs)
	checkDates(doc, vs)
	checkAttachments(doc, m, vs)
}

// checkClassification: 条例 第九条 (一)(二): a classified document (涉密公文)
// carries its copy number, its level and its period.
func checkClassification(doc *Document, m map[string]any, vs *violations) {
	c := doc.Classification
	if c == nil {
		return
	}
	if c.Level == "" {
		vs.Add("/classification/level", "docdoc.classification.level-required", "classification has no level (密级); expected confidential, secret or topSecret (条例 第九条)")
	}
	if c.Period == "" {
		vs.Add("/classification/period", "docdoc.classification.period-required", "a classified document has no classification period (保密期限); expected a period such as \"10年\" (条例 第九条)")
	}
	if _, has := m["copyNumber"]; !has {
		vs.Add("/copyNumber", "docdoc.classification.copy-number", "a classified document has no copy number (份号); expected six digits such as \"000001\" (条例 第九条; GB/T 9704-2012 7.2.1)")
	}
}

// checkUpward: 条例 第九条 (六) and 第十五条: upward documents name their
// signers; a request goes to one main recipient.
func checkUpward(doc *Document, m map[string]any, vs *violations) {
	if doc.Type.Upward() {
		if _, has := m["signers"]; !has {
			vs.Add("/signers", "docdoc.upward.signers", "a %s (%s) is an upward document (上行文) and must name its signers (签发人); expected signers with at least one name (条例 第九条)", doc.Type, doc.Type.Chinese())
		}
	}
	_, listed := m["mainRecipients"].([]any)
	_, present := m["mainRecipients"]
	if doc.Type == TypeRequest && (listed || !present) { // a wrong type is the schema's to report
		if n := len(doc.MainRecipients); n != 1 {
			vs.Add("/mainRecipients", "docdoc.request.single-recipient", "a request (请示) has %d main recipients; expected exactly one (一文一事, 主送一个上级机关; 条例 第十五条), with others in cc", n)
		}
	}
}

// checkDocNumber: GB/T 9704-2012 7.2.4 and 10.2 (令号 of an order).
func checkDocNumber(doc *Document, m map[string]any, vs *violations) {
	s, ok := m["docNumber"].(string)
	if !ok || s == "" {
		return
	}
	if doc.Type == TypeOrder && orderNumberRE.MatchString(s) {
		return
	}
	_, problems := analyseDocNumber(s)
	for _, p := range problems {
		vs.Add("/docNumber", p.Rule, "%s", p.Message)
	}
}

// checkOrgIDs: GB 32100-2015 check characters, and each issuer once.
func checkOrgIDs(doc *Document, m map[string]any, vs *violations) {
	check := func(member string, list []Organ) {
		for i, o := range list {
			if !orgIDForm(o.OrgID) {
				continue // reported by the schema (or absent for a collective recipient)
			}
			want, _ := OrgIDCheckCharacter(o.OrgID[:17])
			if o.OrgID[17] != want {
				vs.Add("/"+member+"/"+strconv.Itoa(i)+"/orgId", "docdoc.org-id.check-digit", "unified social credit identifier %q has check character %c; expected %c, computed from the first 17 characters with the weights of GB 32100-2015", o.OrgID, o.OrgID[17], want)
			}
		}
	}
	check("issuers", doc.Issuers)
	check("mainRecipients", doc.MainRecipients)
	check("cc", doc.CC)
	seen := map[string]int{}
	for i, o := range doc.Issuers {
		if o.OrgID == "" {
			continue
		}
		if j, dup := seen[o.OrgID]; dup {
			vs.Add("/issuers/"+strconv.Itoa(i)+"/orgId", "docdoc.issuers.unique", "issuer %d has the same unified social credit identifier as issuer %d (%s); expected each organ once in a joint document (联合行文)", i, j, o.OrgID)
			continue
		}
		seen[o.OrgID] = i
	}
}

// checkDates: real calendar dates; 印发日期 not before 成文日期.
func checkDates(doc *Document, vs *violations) {
	date, dateOK := civilDate(doc.Date, "/date", vs)
	printDate, printOK := civilDate(doc.PrintDate, "/printDate", vs)
	if dateOK && printOK && date.After(printDate) {
		vs.Add("/printDate", "docdoc.date.after-print-date", "the date of writing (成文日期) %s is after the printing date (印发日期) %s; expected a printing date on or after the date of writing", doc.Date, doc.PrintDate)
	}
}

// civilDate parses a date that has the schema's YYYY-MM-DD shape and
// reports one that is not on the calendar.
func civilDate(s, ptr string, vs *violations) (time.Time, bool) {
	if !dateShape(s) {
		return time.Time{}, false // absent, or reported by the schema
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || s[:4] == "0000" {
		vs.Add(ptr, "docdoc.date.invalid", "%q is not a calendar date; expected a real date YYYY-MM-DD (month 01-12, a day that month has)", s)
		return time.Time{}, false
	}
	return t, true
}

func dateShape(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, c := range []byte(s) {
		if i != 4 && i != 7 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// checkAttachments: unique names (also without regard to case, for the
// file systems that unpacking writes to) and attachment notes that match
// the attachments one to one, in order (GB/T 9704-2012 7.3.4 附件说明).
func checkAttachments(doc *Document, m map[string]any, vs *violations) {
	seen := map[string]int{}
	for i, a := range doc.Attachments {
		p := "/attachments/" + strconv.Itoa(i) + "/name"
		if a.Name == "." || a.Name == ".." {
			vs.Add(p, "docdoc.file-name.format", "attachment name %q is a directory reference; expected a file name", a.Name)
			continue
		}
		if a.Name == "" {
			continue
		}
		key := strings.ToLower(a.Name)
		if j, dup := seen[key]; dup {
			vs.Add(p, "docdoc.attachments.unique-name", "attachment %d is named %q like attachment %d (%q); expected unique names, also ignoring case", i, a.Name, j, doc.Attachments[j].Name)
			continue
		}
		seen[key] = i
	}
	if doc.Body.File == "." || doc.Body.File == ".." {
		vs.Add("/body/file", "docdoc.file-name.format", "body file %q is a directory reference; expected a file name", doc.Body.File)
	}

	_, hasNotes := m["attachmentNotes"]
	_, hasAttachments := m["attachments"]
	notes, atts := doc.AttachmentNotes, doc.Attachments
	switch {
	case !hasNotes && !hasAttachments:
		return
	case len(notes) != len(atts):
		vs.Add("/attachmentNotes", "docdoc.attachment-notes.count", "%d attachment notes (附件说明) for %d attachments (附件); expected one note per attachment, in the same order (GB/T 9704-2012 7.3.4)", len(notes), len(atts))
		return
	}
	for i, note := range notes {
		if note == "" || atts[i].Name == "" {
			continue
		}
		if !noteMatches(note, atts[i].Name, i+1) {
			base := strings.TrimSuffix(atts[i].Name, path.Ext(atts[i].Name))
			vs.Add("/attachmentNotes/"+strconv.Itoa(i), "docdoc.attachment-notes.name", "attachment note %d is %q but attachment %d is %q; expected the attachment's name, with or without its extension (%q), optionally numbered \"%d.\"", i+1, note, i+1, atts[i].Name, base, i+1)
		}
	}
}

// noteMatches reports whether note names the attachment called name at
// position pos (from 1): the name itself or without its extension,
// optionally preceded by "pos." (or "pos．" / "pos、").
func noteMatches(note, name string, pos int) bool {
	n := strings.TrimSpace(note)
	num := strconv.Itoa(pos)
	for _, sep := range []string{".", "．", "、"} {
		if rest, ok := strings.CutPrefix(n, num+sep); ok {
			n = strings.TrimSpace(rest)
			break
		}
	}
	if n == name {
		return true
	}
	ext := path.Ext(name)
	return ext != "" && n == strings.TrimSuffix(name, ext)
}
