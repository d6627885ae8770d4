package storecache

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The outcomes of a read of a row the cache keeps.
const (
	hit      = iota // served from memory
	miss            // read from the store, and kept if nothing changed meanwhile
	bypass          // read from the store: a write in flight, or a View older than the row
	snapshot        // read from the store: the first read of a View, which takes its snapshot
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"hit", "miss", "bypass", "snapshot"}

// Reads counts the reads of one kind of row.
type Reads struct {
	Hits, Misses, Bypasses, Snapshots uint64
}

// Store is the number of reads that went to the store.
func (r Reads) Store() uint64 { return r.Misses + r.Bypasses + r.Snapshots }

// Stats are a Cache's figures since it was made.
type Stats struct {
	// Reads by kind of row: user, bot, admin, channel, membership,
	// moderator, ban.
	Reads map[string]Reads
	// Rows is the number of row records held now.
	Rows int
	// Evictions counts the row records evicted for room.
	Evictions uint64
}

// Total adds the reads of every kind.
func (s Stats) Total() Reads {
	var t Reads
	for _, r := range s.Reads {
		t.Hits += r.Hits
		t.Misses += r.Misses
		t.Bypasses += r.Bypasses
		t.Snapshots += r.Snapshots
	}
	return t
}

// Stats returns the cache's figures.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Stats{Reads: make(map[string]Reads, numRowKinds), Rows: c.rows, Evictions: c.evictions}
	for k, r := range c.reads {
		s.Reads[kindNames[k]] = Reads{Hits: r[hit], Misses: r[miss], Bypasses: r[bypass], Snapshots: r[snapshot]}
	}
	return s
}

var (
	readsDesc = prometheus.NewDesc("carillon_store_cache_reads_total",
		"Reads of the rows the store cache keeps, by kind of row and result: hit (from memory), miss (from the store, then kept), bypass (from the store: a write in flight, or a snapshot older than the row) or snapshot (from the store: the first read of a View).",
		[]string{"kind", "result"}, nil)
	rowsDesc = prometheus.NewDesc("carillon_store_cache_rows",
		"Row records the store cache holds.", nil, nil)
	evictionsDesc = prometheus.NewDesc("carillon_store_cache_evictions_total",
		"Row records the store cache evicted for room.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *Cache) Describe(ch chan<- *prometheus.Desc) {
	ch <- readsDesc
	ch <- rowsDesc
	ch <- evictionsDesc
}

// Collect implements prometheus.Collector.
func (c *Cache) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	reads, rows, evictions := c.reads, c.rows, c.evictions
	c.mu.Unlock()
	for k := range reads {
		for o := range reads[k] {
			ch <- prometheus.MustNewConstMetric(readsDesc, prometheus.CounterValue, float64(reads[k][o]), kindNames[k], outcomeNames[o])
		}
	}
	ch <- prometheus.MustNewConstMetric(rowsDesc, prometheus.GaugeValue, float64(rows))
	ch <- prometheus.MustNewConstMetric(evictionsDesc, prometheus.CounterValue, float64(evictions))
}
