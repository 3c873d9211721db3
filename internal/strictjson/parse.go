package strictjson

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// ReadAll reads r to its end, failing with a [CodeTooLarge] error as soon as
// more than lim.MaxBytes have arrived, so that an oversized input is never
// held whole. Other errors are the reader's own.
func ReadAll(r io.Reader, lim Limits) ([]byte, error) {
	max := lim.maxBytes()
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &Error{Code: CodeTooLarge, Offset: max, Msg: "input is larger than the limit of " + strconv.FormatInt(max, 10) + " bytes"}
	}
	return data, nil
}

// Parse reads one JSON text into the generic tree that JSON Schema
// validators consume: map[string]any for objects, []any for arrays, string,
// json.Number (its digits as written), bool and nil. It applies every rule
// of the package, duplicate member names included, and returns an [*Error]
// with the JSON Pointer of the offending value on failure.
func Parse(data []byte, lim Limits) (any, error) {
	var p parser
	if err := p.sc.Reset(data, lim); err != nil {
		return nil, err
	}
	v, err := p.value()
	if err != nil {
		return nil, p.locate(err)
	}
	if _, err := p.sc.Next(); err != nil {
		return nil, p.locate(err)
	}
	return v, nil
}

type parser struct {
	sc   Scanner
	path []pathElem
}

type pathElem struct {
	name  string
	index int // -1 for object members
}

func (p *parser) locate(err error) error {
	if e, ok := err.(*Error); ok && e.Pointer == "" {
		e.Pointer = p.pointer()
	}
	return err
}

func (p *parser) pointer() string {
	var b strings.Builder
	for _, e := range p.path {
		b.WriteByte('/')
		if e.index >= 0 {
			b.WriteString(strconv.Itoa(e.index))
		} else {
			b.WriteString(EscapePointerToken(e.name))
		}
	}
	return b.String()
}

// EscapePointerToken escapes one reference token of an RFC 6901 JSON
// Pointer ('~' as "~0", '/' as "~1").
func EscapePointerToken(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func (p *parser) value() (any, error) {
	k, err := p.sc.Next()
	if err != nil {
		return nil, err
	}
	return p.valueOf(k)
}

func (p *parser) valueOf(k Kind) (any, error) {
	switch k {
	case String:
		return p.sc.StringValue(), nil
	case Number:
		return json.Number(p.sc.Raw()), nil
	case True:
		return true, nil
	case False:
		return false, nil
	case Null:
		return nil, nil
	case ObjectStart:
		return p.object()
	case ArrayStart:
		return p.array()
	}
	// Unreachable: the scanner returns only value kinds here.
	return nil, p.sc.errAt(p.sc.Offset(), CodeSyntax, "unexpected "+k.String()+"; expected a value")
}

func (p *parser) object() (any, error) {
	m := make(map[string]any)
	for {
		k, err := p.sc.Next()
		if err != nil {
			return nil, err
		}
		if k == ObjectEnd {
			return m, nil
		}
		name := p.sc.StringValue()
		if _, dup := m[name]; dup {
			err := p.sc.errAt(p.sc.Offset(), CodeDuplicateName, "duplicate member name "+strconv.Quote(name)+"; expected each name once per object")
			err.Pointer = p.pointer() + "/" + EscapePointerToken(name)
			return nil, err
		}
		p.path = append(p.path, pathElem{name: name, index: -1})
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		p.path = p.path[:len(p.path)-1]
		m[name] = v
	}
}

func (p *parser) array() (any, error) {
	a := make([]any, 0, 4)
	p.path = append(p.path, pathElem{})
	top := len(p.path) - 1
	for {
		p.path[top].index = len(a)
		k, err := p.sc.Next()
		if err != nil {
			return nil, err
		}
		if k == ArrayEnd {
			p.path = p.path[:top]
			return a, nil
		}
		v, err := p.valueOf(k)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
}
