// Package columns lays out the examples' text tables, in which a CJK
// character takes two terminal columns.
package columns

// Pad right-pads s with spaces to width terminal columns, counting a
// character from U+1100 up (Hangul, CJK, fullwidth forms) as two columns.
func Pad(s string, width int) string {
	w := 0
	for _, r := range s {
		w++
		if r >= 0x1100 {
			w++
		}
	}
	for ; w < width; w++ {
		s += " "
	}
	return s
}
