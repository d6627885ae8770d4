package sqlite

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestCommitMetrics: the store counts its commits, and each committed
// batch under the bucket of its size, failed requests included; a batch
// that rolls back is not counted.
func TestCommitMetrics(t *testing.T) {
	db := openFresh(t)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(db)
	before := db.commits.Load() // Open's own writes, if any
	if err := db.Update(t.Context(), writeApp("alone", nil, nil)); err != nil {
		t.Fatal(err)
	}
	// Rolled back: its only request failed.
	if err := db.Update(t.Context(), writeApp("failed", errors.New("fails"), nil)); err == nil {
		t.Fatal("the failing request succeeded")
	}
	// The gate and five requests, one of them failing: a batch of six.
	inOneBatch(t, db, writeApp("a", nil, nil), writeApp("b", errors.New("fails"), nil),
		writeApp("c", nil, nil), writeApp("d", nil, nil), writeApp("e", nil, nil))

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var commits float64
	buckets := map[float64]uint64{}
	var count, sum float64
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case "carillon_store_commits_total":
				commits = m.GetCounter().GetValue()
			case "carillon_store_commit_batch_requests":
				h := m.GetHistogram()
				count, sum = float64(h.GetSampleCount()), h.GetSampleSum()
				for _, b := range h.GetBucket() {
					buckets[b.GetUpperBound()] = b.GetCumulativeCount()
				}
			}
		}
	}
	if want := float64(before + 2); commits != want {
		t.Errorf("carillon_store_commits_total = %v, want %v", commits, want)
	}
	if count != commits || sum != float64(before)+1+6 {
		t.Errorf("batches: count %v, sum %v; want %v batches of %v requests", count, sum, commits, float64(before)+1+6)
	}
	for le, want := range map[float64]uint64{1: uint64(before) + 1, 4: uint64(before) + 1, 8: uint64(before) + 2, 64: uint64(before) + 2} {
		if buckets[le] != want {
			t.Errorf("batches of at most %v requests: %d, want %d", le, buckets[le], want)
		}
	}
}
