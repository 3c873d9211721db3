package docdoc

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// DocNumber is a document number (发文字号): the issuing organ's code
// (机关代字), the year (年份) and the sequence number (发文顺序号), written
// 机关代字〔年份〕序号号 as in 渝府发〔2012〕12号 (GB/T 9704-2012 7.2.4;
// 党政机关公文处理工作条例 第九条).
type DocNumber struct {
	Code string // 机关代字, such as 渝府发
	Year int    // 年份, in full
	Seq  int    // 发文顺序号, from 1
}

// String writes the number in its standard form.
func (n DocNumber) String() string {
	return n.Code + "〔" + strconv.Itoa(n.Year) + "〕" + strconv.Itoa(n.Seq) + "号"
}

// DocNumberError lists what is wrong with a document number, each with its
// rule id, and the number as it should be written where that can be told.
type DocNumberError struct {
	Input    string
	Problems []Violation // Pointer is empty; Rule and Message say what is wrong
}

// Error implements error.
func (e *DocNumberError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Message
	}
	return "docdoc: document number " + strconv.Quote(e.Input) + ": " + strings.Join(msgs, "; ")
}

// Is reports whether target is [ErrInvalid].
func (e *DocNumberError) Is(target error) bool { return target == ErrInvalid }

// docNumberRE matches a document number loosely, so that each defect can be
// named: any bracket pair around the year, an optional 第, any digits.
var docNumberRE = regexp.MustCompile(`^(.*?)([〔\[(【［（{｛〖<《〈「『〘⟦])([0-9０-９]*)([〕\])】］）}｝〗>》〉」』〙⟧])(第?)([0-9０-９]*)(号?)$`)

var orderNumberRE = regexp.MustCompile(`^第[1-9][0-9]*号$`)

// ParseDocNumber parses a document number written 机关代字〔年份〕序号号. The
// year is four Arabic digits inside hexagonal brackets 〔〕 (U+3014, U+3015);
// the sequence number has no 第 and no leading zeros; the number ends in 号
// (GB/T 9704-2012 7.2.4). A malformed number gives a [*DocNumberError]
// that names each defect and shows the right form.
func ParseDocNumber(s string) (DocNumber, error) {
	n, problems := analyseDocNumber(s)
	if len(problems) > 0 {
		return DocNumber{}, &DocNumberError{Input: s, Problems: problems}
	}
	return n, nil
}

func analyseDocNumber(s string) (DocNumber, []Violation) {
	var ps []Violation
	add := func(rule, format string, args ...any) {
		ps = append(ps, Violation{Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	const example = "渝府发〔2012〕12号"
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		add("docdoc.doc-number.format", "%q contains white space; expected 机关代字〔年份〕序号号 with no spaces, such as %s", s, example)
		return DocNumber{}, ps
	}
	m := docNumberRE.FindStringSubmatch(s)
	if m == nil {
		add("docdoc.doc-number.format", "%q is not of the form 机关代字〔年份〕序号号; expected, for example, %s (GB/T 9704-2012 7.2.4)", s, example)
		return DocNumber{}, ps
	}
	code, open, year, close, di, seq, hao := m[1], m[2], m[3], m[4], m[5], m[6], m[7]
	if code == "" || strings.ContainsAny(code, "〔〕[]()【】［］（）{}") {
		add("docdoc.doc-number.format", "%q has no issuing organ's code (机关代字) before the year; expected, for example, %s", s, example)
	}
	yearASCII, seqASCII := toASCIIDigits(year), toASCIIDigits(seq)
	suggest := func() string {
		q := strings.TrimLeft(seqASCII, "0")
		if q == "" {
			q = "1"
		}
		c := code
		if c == "" {
			c = "渝府发"
		}
		y := yearASCII
		if len(y) != 4 {
			y = "2012"
		}
		return c + "〔" + y + "〕" + q + "号"
	}
	if open != "〔" || close != "〕" {
		add("docdoc.doc-number.brackets", "%q encloses the year in %s%s; expected the hexagonal brackets 〔〕, as in %s", s, open, close, suggest())
	}
	switch {
	case year == "":
		add("docdoc.doc-number.year", "%q has no year; expected the year in full, as in %s", s, suggest())
	case year != yearASCII:
		add("docdoc.doc-number.year", "%q writes the year in full-width digits; expected Arabic digits 0-9, as in %s", s, suggest())
	case len(year) != 4 || year[0] == '0':
		add("docdoc.doc-number.year", "%q has the year %s; expected the year in full, four digits, as in %s", s, year, suggest())
	}
	if di != "" {
		add("docdoc.doc-number.di", "%q puts 第 before the sequence number; expected no 第, as in %s", s, suggest())
	}
	switch {
	case seq == "":
		add("docdoc.doc-number.format", "%q has no sequence number (发文顺序号); expected one after the year, as in %s", s, suggest())
	case seq != seqASCII:
		add("docdoc.doc-number.format", "%q writes the sequence number in full-width digits; expected Arabic digits 0-9, as in %s", s, suggest())
	case strings.TrimLeft(seq, "0") == "":
		add("docdoc.doc-number.format", "%q has sequence number 0; expected a number from 1", s)
	case seq[0] == '0':
		add("docdoc.doc-number.leading-zero", "%q writes the sequence number with a leading zero; expected no leading zeros (1 is not written 01), as in %s", s, suggest())
	}
	if hao == "" {
		add("docdoc.doc-number.format", "%q does not end in 号; expected 号 after the sequence number, as in %s", s, suggest())
	}
	if len(ps) > 0 {
		return DocNumber{}, ps
	}
	y, err1 := strconv.Atoi(year)
	q, err2 := strconv.Atoi(seq)
	if err := errors.Join(err1, err2); err != nil {
		add("docdoc.doc-number.format", "%q has a number too large to read; expected, for example, %s", s, example)
		return DocNumber{}, ps
	}
	return DocNumber{Code: code, Year: y, Seq: q}, nil
}

func toASCIIDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, s)
}
