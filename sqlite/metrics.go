package sqlite

import (
	"github.com/prometheus/client_golang/prometheus"
)

// What the group commit does, for operators: how many batches commit and
// how many requests each holds. A batch of one is a commit per request,
// the most each write can cost; the batches grow with the writes that
// arrive together (docs/performance.md, "Group commit on one core").

var (
	commitsDesc = prometheus.NewDesc("carillon_store_commits_total",
		"Transactions the SQLite store committed; each holds a batch of write requests (group commit).", nil, nil)
	batchDesc = prometheus.NewDesc("carillon_store_commit_batch_requests",
		"Write requests in each committed batch, those that failed and were rolled back alone included.", nil, nil)
)

// batchBuckets are the upper bounds of the batch size histogram, up to
// defaultMaxBatch.
var batchBuckets = [...]float64{1, 2, 4, 8, 16, 32, 64}

// batchSizes counts the committed batches by size. The writer holding
// the baton is the only one to add to it, so the counts are plain
// integers read under the writer's mutex.
type batchSizes struct {
	counts [len(batchBuckets) + 1]uint64 // the last: above every bound
	sum    uint64
}

// add records a committed batch of n requests. w.mu is held.
func (s *batchSizes) add(n int) {
	i := 0
	for i < len(batchBuckets) && float64(n) > batchBuckets[i] {
		i++
	}
	s.counts[i]++
	s.sum += uint64(n)
}

// Describe implements prometheus.Collector.
func (db *DB) Describe(ch chan<- *prometheus.Desc) {
	ch <- commitsDesc
	ch <- batchDesc
}

// Collect implements prometheus.Collector.
func (db *DB) Collect(ch chan<- prometheus.Metric) {
	db.wr.mu.Lock()
	s := db.wr.sizes
	db.wr.mu.Unlock()
	buckets := make(map[float64]uint64, len(batchBuckets))
	var n uint64
	for i, le := range batchBuckets {
		n += s.counts[i]
		buckets[le] = n
	}
	n += s.counts[len(batchBuckets)]
	ch <- prometheus.MustNewConstMetric(commitsDesc, prometheus.CounterValue, float64(db.commits.Load()))
	ch <- prometheus.MustNewConstHistogram(batchDesc, n, float64(s.sum), buckets)
}
