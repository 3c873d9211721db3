package columns

import "testing"

func TestPad(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"ab", 4, "ab  "},
		{"公文", 6, "公文  "},
		{"公文", 3, "公文"},
		{"", 2, "  "},
	} {
		if got := Pad(c.in, c.w); got != c.want {
			t.Errorf("Pad(%q, %d) = %q; want %q", c.in, c.w, got, c.want)
		}
	}
}
