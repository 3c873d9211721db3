package deadline

import (
	"fmt"
	"time"

	"github.com/egovkit/egovkit/internal/strictjson"
)

// eventLimits bound a stored event history: 4 MiB, shallow nesting.
var eventLimits = strictjson.Limits{MaxBytes: 4 << 20, MaxDepth: 4}

// MaxEvents is the most events [ParseEvents] accepts in one history.
const MaxEvents = 10000

// ParseEvents reads a clock's event history as persisted by a caller: a JSON
// array of [Event] objects in the form encoding/json writes them
// ({"kind":"suspended","at":"2025-03-05T09:00:00+08:00","reason":"补正"}).
// It is strict: valid UTF-8, no duplicate or unknown members, a known kind,
// an RFC 3339 time, a limit in the "10wd" form, at most [MaxEvents]
// events. Whether the events fit together is checked by [Rebuild]. Errors
// are [*EventError] values naming the event's index and the member.
func ParseEvents(data []byte) ([]Event, error) {
	fail := func(i int, k EventKind, format string, args ...any) ([]Event, error) {
		return nil, &EventError{Index: i, Kind: k, Msg: fmt.Sprintf(format, args...)}
	}
	tree, err := strictjson.Parse(data, eventLimits)
	if err != nil {
		return fail(-1, 0, "%v", err)
	}
	arr, ok := tree.([]any)
	if !ok {
		return fail(-1, 0, "expected a JSON array of events")
	}
	if len(arr) > MaxEvents {
		return fail(-1, 0, "%d events, more than the limit of %d", len(arr), MaxEvents)
	}
	out := make([]Event, 0, len(arr))
	for i, item := range arr {
		obj, ok := item.(map[string]any)
		if !ok {
			return fail(i, 0, "/%d: expected an object", i)
		}
		var e Event
		str := func(name string) (string, error) {
			v, ok := obj[name]
			if !ok {
				return "", nil
			}
			s, ok := v.(string)
			if !ok {
				return "", fmt.Errorf("/%d/%s: expected a string", i, name)
			}
			return s, nil
		}
		for name := range obj {
			switch name {
			case "kind", "at", "reason", "approver", "by", "step":
			default:
				return fail(i, 0, "/%d/%s: unknown member; expected kind, at, reason, approver, by or step", i, strictjson.EscapePointerToken(name))
			}
		}
		kind, err := str("kind")
		if err != nil {
			return fail(i, 0, "%v", err)
		}
		if err := e.Kind.UnmarshalText([]byte(kind)); err != nil {
			return fail(i, 0, "/%d/kind: %s", i, err.(*EventError).Msg)
		}
		at, err := str("at")
		if err != nil {
			return fail(i, e.Kind, "%v", err)
		}
		if e.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return fail(i, e.Kind, "/%d/at: %q is not an RFC 3339 time such as 2025-03-05T09:00:00+08:00", i, at)
		}
		if e.Reason, err = str("reason"); err != nil {
			return fail(i, e.Kind, "%v", err)
		}
		if e.Approver, err = str("approver"); err != nil {
			return fail(i, e.Kind, "%v", err)
		}
		if e.Step, err = str("step"); err != nil {
			return fail(i, e.Kind, "%v", err)
		}
		by, err := str("by")
		if err != nil {
			return fail(i, e.Kind, "%v", err)
		}
		if by != "" {
			if e.By, err = ParseLimit(by); err != nil {
				return fail(i, e.Kind, "/%d/by: %v", i, err)
			}
		}
		out = append(out, e)
	}
	return out, nil
}
