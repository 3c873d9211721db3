package uscc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckCharacter(t *testing.T) {
	t.Parallel()
	// A code widely published as an example of the format; its check
	// character agrees with the computation.
	c, err := CheckCharacter("91350100M000100Y4")
	require.NoError(t, err)
	assert.Equal(t, byte('3'), c)
	// The weights are 3^(i-1) mod 31.
	w := 1
	for i := 0; i < 17; i++ {
		assert.Equal(t, w, weights[i], "weight %d", i+1)
		w = w * 3 % 31
	}
	_, err = CheckCharacter("91350100M00010OY4")
	var ce *CharError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 15, ce.Position)
	_, err = CheckCharacter("123")
	assert.Error(t, err)
	assert.True(t, InAlphabet('Y'))
	assert.False(t, InAlphabet('Z'))
}
