package sqlite

import (
	"fmt"
	"testing"
)

// BenchmarkGroupCommitBound sends messages (BenchmarkSendStandIn's
// stand-in) from 64 goroutines with batches bounded at 1 (one transaction
// per request, as before group commit, plus its savepoint), 4, 16, 64 and
// 256 requests: what chose defaultMaxBatch.
func BenchmarkGroupCommitBound(b *testing.B) {
	for _, sync := range []Sync{SyncNormal, SyncFull} {
		for _, bound := range []int{1, 4, 16, 64, 256} {
			b.Run(fmt.Sprintf("sync=%v/batch=%d", sync, bound), func(b *testing.B) {
				s := newSendStore(b, 64, Options{Sync: sync})
				s.db.maxBatch = bound
				s.run(b, 64)
			})
		}
	}
}

// commits is how many batches the store committed.
func (s *sendStore) commits() int64 { return s.db.commits.Load() }
