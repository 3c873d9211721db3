package schemacheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/internal/strictjson"
)

const testSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["code", "n"],
  "properties": {
    "code": {"description": "A code of three letters.", "type": "string", "pattern": "^[A-Z]{3}$", "examples": ["ABC"], "x-rule": "t.code"},
    "n": {"type": "integer", "minimum": 1},
    "items": {"type": "array", "items": {"type": "string"}}
  }
}`

func validate(t *testing.T, instance string) []Violation {
	t.Helper()
	s, err := CompileJSON("https://example.test/s.json", []byte(testSchema), "t")
	require.NoError(t, err)
	tree, err := strictjson.Parse([]byte(instance), strictjson.Limits{})
	require.NoError(t, err)
	return Sort(s.Validate(tree))
}

func TestValidate(t *testing.T) {
	t.Parallel()
	assert.Empty(t, validate(t, `{"code":"ABC","n":1}`))
	got := validate(t, `{"code":"abc","n":0,"x":1,"items":[1,"a",2]}`)
	require.Len(t, got, 5)
	assert.Equal(t, Violation{Pointer: "/code", Rule: "t.code", Message: `"abc" is not in the expected form; expected: A code of three letters, for example "ABC"`}, got[0])
	assert.Equal(t, "/items/0", got[1].Pointer)
	assert.Equal(t, "t.schema.type", got[1].Rule)
	assert.Equal(t, "/items/2", got[2].Pointer)
	assert.Equal(t, "/n", got[3].Pointer)
	assert.Equal(t, "t.schema.minimum", got[3].Rule)
	assert.Equal(t, Violation{Pointer: "/x", Rule: "t.schema.unknown-member", Message: `unknown member "x"; expected only the members the schema defines for this object (code, items, n)`}, got[4])

	got = validate(t, `{}`)
	require.Len(t, got, 2)
	assert.Equal(t, "/code", got[0].Pointer)
	assert.Equal(t, "t.schema.required", got[0].Rule)
	assert.Contains(t, got[0].Message, "A code of three letters")
}

func TestNoExternalReferences(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{"file:///etc/passwd", "https://example.com/s.json", "other.json"} {
		_, err := CompileJSON("https://example.test/s.json", []byte(`{"$ref": "`+ref+`"}`), "t")
		assert.Error(t, err, ref)
	}
}

func TestPointerOrder(t *testing.T) {
	t.Parallel()
	assert.True(t, PointerLess("/steps/2", "/steps/10"))
	assert.True(t, PointerLess("", "/a"))
	assert.True(t, PointerLess("/a", "/b"))
	assert.False(t, PointerLess("/b/0", "/a/1"))
	vs := Sort([]Violation{{Pointer: "/b"}, {Pointer: "/a", Rule: "y"}, {Pointer: "/a", Rule: "x"}, {Pointer: "/b"}})
	assert.Equal(t, []Violation{{Pointer: "/a", Rule: "x"}, {Pointer: "/a", Rule: "y"}, {Pointer: "/b"}}, vs)
	assert.Nil(t, Sort(nil))
}

func TestListSorted(t *testing.T) {
	t.Parallel()
	type pub struct {
		Pointer string `json:"pointer"`
		Rule    string `json:"rule"`
		Message string `json:"message"`
	}
	var l List
	l.Add("/b", "r", "%d", 2)
	l.Add("/a", "r", "%d", 1)
	l.Add("/b", "r", "%d", 2)
	assert.Equal(t, []pub{{"/a", "r", "1"}, {"/b", "r", "2"}}, Sorted[pub](l))
	assert.Empty(t, Sorted[pub](nil))
}
