package docdoc_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/internal/strictjson"
)

func TestParseDocNumber(t *testing.T) {
	t.Parallel()
	good := map[string]docdoc.DocNumber{
		"渝府发〔2012〕12号":   {Code: "渝府发", Year: 2012, Seq: 12},
		"国办发〔2024〕1号":    {Code: "国办发", Year: 2024, Seq: 1},
		"渝发改投〔2025〕128号": {Code: "渝发改投", Year: 2025, Seq: 128},
		"国办发明电〔2024〕12号": {Code: "国办发明电", Year: 2024, Seq: 12},
	}
	for s, want := range good {
		got, err := docdoc.ParseDocNumber(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, got)
		assert.Equal(t, s, got.String())
	}
	bad := []struct {
		in, rule, shows string
	}{
		{"渝府发[2012]12号", "docdoc.doc-number.brackets", "渝府发〔2012〕12号"},
		{"渝府发(2012)12号", "docdoc.doc-number.brackets", "渝府发〔2012〕12号"},
		{"渝府发【2012】12号", "docdoc.doc-number.brackets", "渝府发〔2012〕12号"},
		{"渝府发〔2012〕012号", "docdoc.doc-number.leading-zero", "渝府发〔2012〕12号"},
		{"渝府发〔2012〕第12号", "docdoc.doc-number.di", "渝府发〔2012〕12号"},
		{"渝府发〔12〕12号", "docdoc.doc-number.year", "four digits"},
		{"渝府发〔２０１２〕12号", "docdoc.doc-number.year", "Arabic digits"},
		{"渝府发〔2012〕１２号", "docdoc.doc-number.format", "Arabic digits"},
		{"渝府发〔2012〕0号", "docdoc.doc-number.format", "from 1"},
		{"渝府发〔2012〕号", "docdoc.doc-number.format", "sequence number"},
		{"渝府发〔2012〕12", "docdoc.doc-number.format", "渝府发〔2012〕12号"},
		{"〔2012〕12号", "docdoc.doc-number.format", "机关代字"},
		{"渝府发 〔2012〕12号", "docdoc.doc-number.format", "white space"},
		{"渝府发2012年12号", "docdoc.doc-number.format", "机关代字〔年份〕序号号"},
		{"", "docdoc.doc-number.format", "机关代字〔年份〕序号号"},
	}
	for _, tc := range bad {
		_, err := docdoc.ParseDocNumber(tc.in)
		var de *docdoc.DocNumberError
		require.ErrorAs(t, err, &de, tc.in)
		assert.True(t, errors.Is(err, docdoc.ErrInvalid))
		var rules []string
		for _, p := range de.Problems {
			rules = append(rules, p.Rule)
		}
		assert.Contains(t, rules, tc.rule, tc.in)
		assert.Contains(t, err.Error(), tc.shows, tc.in)
	}
}

func TestOrgID(t *testing.T) {
	t.Parallel()
	// A code widely published as an example of the format; its check
	// character agrees with GB 32100-2015's computation.
	require.NoError(t, docdoc.CheckOrgID("91350100M000100Y43"))
	for _, id := range []string{"11500000MB1541240B", "11500000MB16089308", "11500000MB1972360U", "11500103MB1548100L"} {
		assert.NoError(t, docdoc.CheckOrgID(id), id)
	}
	c, err := docdoc.OrgIDCheckCharacter("91350100M000100Y4")
	require.NoError(t, err)
	assert.Equal(t, byte('3'), c)
	for _, id := range []string{"91350100M000100Y44", "91350100M000100Y4", "91350100M000100Y4I", "9135A100M000100Y43", "91350100m000100y43", "913501001000100Y4O"} {
		assert.Error(t, docdoc.CheckOrgID(id), id)
	}
	_, err = docdoc.OrgIDCheckCharacter("91350100M00010OY4")
	assert.ErrorContains(t, err, "character 15")
}

func TestValidateGoDocument(t *testing.T) {
	t.Parallel()
	d := docdoc.New(docdoc.TypeNotice)
	d.Issuers = []docdoc.Organ{cqGov}
	d.Title = "关于做好春节期间安全生产工作的通知"
	d.MainRecipients = []docdoc.Organ{allDist}
	d.Body = docdoc.Body{MediaType: "text/plain", Text: "各区县人民政府：……"}
	d.Date = "2025-01-20"
	d.DocNumber = "渝府发〔2025〕3号"
	require.NoError(t, docdoc.Validate(d))

	d.Type = docdoc.TypeRequest
	err := docdoc.Validate(d)
	var ve *docdoc.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []string{"docdoc.upward.signers"}, ve.Rules())
	assert.True(t, ve.Has("docdoc.upward.signers"))
	assert.Equal(t, "/signers", ve.Violations[0].Pointer)
	assert.True(t, errors.Is(err, docdoc.ErrInvalid))
	assert.Contains(t, err.Error(), "/signers: docdoc.upward.signers:")

	require.Error(t, docdoc.Validate(nil))
}

// A valid document survives Parse and Marshal unchanged: the typed model
// holds everything the schema allows, so a department system that reads
// and rewrites a document does not drop members that seals cover.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/conformance/valid/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		doc, err := docdoc.ParseBytes(data)
		require.NoError(t, err, f)
		out, err := docdoc.Marshal(doc)
		require.NoError(t, err)
		a, err := strictjson.Parse(data, strictjson.Limits{})
		require.NoError(t, err)
		b, err := strictjson.Parse(out, strictjson.Limits{})
		require.NoError(t, err)
		if len(doc.Signatures) == 0 {
			delete(a.(map[string]any), "signatures") // an empty list is no list: seals do not cover it
		}
		assert.True(t, reflect.DeepEqual(a, b), "%s changed in a round trip:\n%s", f, out)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	_, err := docdoc.Parse(errReader{})
	require.Error(t, err)
	assert.False(t, errors.Is(err, docdoc.ErrInvalid), "an I/O error is not an invalid document")

	big := make([]byte, docdoc.MaxDocumentSize+1)
	_, err = docdoc.ParseBytes(big)
	var ve *docdoc.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []string{"docdoc.json.too-large"}, ve.Rules())

	schema := docdoc.Schema()
	assert.Contains(t, string(schema), docdoc.SchemaID)
	schema[0] = 'x'
	assert.Equal(t, byte('{'), docdoc.Schema()[0], "Schema returns a copy")
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestTypes(t *testing.T) {
	t.Parallel()
	assert.Len(t, docdoc.Types, 15)
	for _, ty := range docdoc.Types {
		assert.NotEmpty(t, ty.Chinese(), ty)
	}
	assert.True(t, docdoc.TypeRequest.Upward())
	assert.True(t, docdoc.TypeReport.Upward())
	assert.False(t, docdoc.TypeNotice.Upward())
	assert.Empty(t, docdoc.Type("memo").Chinese())
}
