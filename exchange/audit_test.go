package exchange

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/internal/sqldb/sqldbtest"
)

func TestAuditLog(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEach(t, func(t *testing.T, open sqldbtest.Opener) {
		ctx := context.Background()
		now := time.Date(2025, 3, 18, 8, 0, 0, 0, time.UTC)
		// Concurrent appends from several connections, as several gateway
		// processes sharing a store make them.
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := openTestStore(t, open)
				for i := 0; i < 5; i++ {
					id := fmt.Sprintf("m-%d-%d", w, i)
					assert.NoError(t, s.Accept(ctx, InboxEntry{MessageID: id, Sender: ndrc, Kind: KindDocument, Envelope: []byte(`{"kind":"document","id":"` + id + `"}`), PayloadPath: "/p", Received: now}))
				}
			}()
		}
		wg.Wait()
		s := openTestStore(t, open)
		require.NoError(t, s.Enqueue(ctx, []OutboxEntry{{MessageID: "out-1", Recipient: finance, Envelope: []byte(`{"kind":"document"}`), PayloadPath: "/p", NextAttempt: now, Created: now}}))
		entries, err := s.Audit(ctx)
		require.NoError(t, err)
		require.Len(t, entries, 21)
		assert.Equal(t, AuditSent, entries[20].Direction)
		assert.Equal(t, KindDocument, entries[0].Kind)

		var buf bytes.Buffer
		require.NoError(t, WriteAudit(&buf, entries))
		n, err := VerifyAudit(bytes.NewReader(buf.Bytes()))
		require.NoError(t, err)
		assert.Equal(t, 21, n)

		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		join := func(ls []string) string { return strings.Join(ls, "\n") + "\n" }
		broken := func(log string) *AuditError {
			_, err := VerifyAudit(strings.NewReader(log))
			var ae *AuditError
			require.ErrorAs(t, err, &ae)
			assert.ErrorIs(t, err, ErrAuditBroken)
			return ae
		}
		edited := append([]string(nil), lines...)
		edited[7] = strings.Replace(edited[7], `"peer":"11500000MB16089308/gw1"`, `"peer":"11500000MB1972360U/gw1"`, 1)
		ae := broken(join(edited))
		assert.Equal(t, int64(8), ae.Seq)
		assert.Contains(t, ae.Problem, "edited")

		deleted := append(append([]string(nil), lines[:9]...), lines[10:]...)
		ae = broken(join(deleted))
		assert.Equal(t, int64(11), ae.Seq)
		assert.Contains(t, ae.Problem, "entries 10 to 10 were deleted")

		reordered := append([]string(nil), lines...)
		reordered[3], reordered[4] = reordered[4], reordered[3]
		ae = broken(join(reordered))
		assert.Equal(t, 3, ae.Index)

		inserted := append(append(append([]string(nil), lines[:5]...), lines[2]), lines[5:]...)
		ae = broken(join(inserted))
		assert.Equal(t, 5, ae.Index)
		assert.Contains(t, ae.Problem, "inserted")

		ae = broken(join(lines[1:]))
		assert.Contains(t, ae.Problem, "deleted")

		ae = broken(join(append([]string{`{"seq":1,"seq":1}`}, lines...)))
		assert.Contains(t, ae.Problem, "strict JSON")
	})
}
