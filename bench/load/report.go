package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/carillonhq/carillon/internal/stats"
)

// Result is what a run measured.
type Result struct {
	Mode      string // "rate", "fanout" or "idle"
	Scheme    string // "wss" or "ws"
	InProcess bool
	FileLimit string

	Sessions   int // asked for
	Opened     int
	OpenFailed int
	OpenErrors map[string]int // failures by error
	SetupTime  time.Duration
	OpenTime   time.Duration

	// Rate and fanout modes.
	Publishers       int // fanout
	Sent, SendErrors int
	FirstSendError   string
	SendWindow       time.Duration   // the sending schedule, or longer if the sends fell behind
	SendLatencies    []time.Duration // SendChannelMessage round trips, sorted
	Expected         int64           // Sent × sessions open
	Delivered        int64
	DeliveryWindow   time.Duration   // first send to the last delivery
	Latencies        []time.Duration // publish→deliver, sorted

	// Sessions that ended before the tool closed them, by close code.
	Closes map[string]int

	// Idle mode: the server's metrics before the sessions and with them.
	Before, After serverMetrics
}

// percentile is stats.Percentile.
var percentile = stats.Percentile

// Print writes the report.
func (r *Result) Print(w io.Writer) {
	where := "a server in another process"
	if r.InProcess {
		where = "the server in this process"
	}
	fmt.Fprintf(w, "\n== %s load over %s against %s ==\n", r.Mode, r.Scheme, where)
	fmt.Fprintf(w, "%s\n", r.FileLimit)
	fmt.Fprintf(w, "sessions:            %d open of %d asked for, %d failed to open; opened in %v (setup %v)\n",
		r.Opened, r.Sessions, r.OpenFailed, r.OpenTime.Round(time.Millisecond), r.SetupTime.Round(time.Millisecond))
	for _, e := range sortedKeys(r.OpenErrors) {
		fmt.Fprintf(w, "  failed to open:    %d × %s\n", r.OpenErrors[e], e)
	}
	if r.Mode == "rate" || r.Mode == "fanout" {
		if r.Mode == "fanout" {
			fmt.Fprintf(w, "publishers:          %d, each waiting for delivery to every session before its next send\n", r.Publishers)
		}
		rate := 0.0
		if r.SendWindow > 0 {
			rate = float64(r.Sent) / r.SendWindow.Seconds()
		}
		fmt.Fprintf(w, "messages sent:       %d in %v (%.1f/s), %d errors\n", r.Sent, r.SendWindow.Round(time.Millisecond), rate, r.SendErrors)
		if r.FirstSendError != "" {
			fmt.Fprintf(w, "  first send error:  %s\n", r.FirstSendError)
		}
		fmt.Fprintf(w, "send round trip:     %s\n", summary(r.SendLatencies))
		pct := 0.0
		if r.Expected > 0 {
			pct = 100 * float64(r.Delivered) / float64(r.Expected)
		}
		fmt.Fprintf(w, "events delivered:    %d of %d expected (%.2f%%)\n", r.Delivered, r.Expected, pct)
		if r.DeliveryWindow > 0 {
			fmt.Fprintf(w, "delivered events/s:  %.0f (over %v, first send to last delivery)\n",
				float64(r.Delivered)/r.DeliveryWindow.Seconds(), r.DeliveryWindow.Round(time.Millisecond))
		}
		fmt.Fprintf(w, "publish→deliver:     %s\n", summary(r.Latencies))
		if cpu := r.After.CPU - r.Before.CPU; r.Before.ok() && r.After.ok() && r.Delivered > 0 {
			whose := "the server's"
			if r.InProcess {
				whose = "this process's (server and client)"
			}
			fmt.Fprintf(w, "CPU:                 %.1f s of %s CPU while sending and draining: %.1f µs per delivered event\n",
				cpu, whose, cpu/float64(r.Delivered)*1e6)
		}
	}
	closed := 0
	for _, n := range r.Closes {
		closed += n
	}
	fmt.Fprintf(w, "closed unexpectedly: %d\n", closed)
	for _, c := range sortedKeys(r.Closes) {
		fmt.Fprintf(w, "  %d × %s\n", r.Closes[c], c)
	}
	if r.Mode == "idle" {
		b, a := r.Before, r.After
		if !b.ok() || !a.ok() {
			fmt.Fprintf(w, "memory:              the server's /metrics gave no process_resident_memory_bytes\n")
			return
		}
		fmt.Fprintf(w, "server's sessions:   carillon_session_open %.0f before, %.0f after\n", b.SessionsOpen, a.SessionsOpen)
		per := func(before, after float64) float64 {
			if r.Opened == 0 {
				return 0
			}
			return (after - before) / float64(r.Opened)
		}
		fmt.Fprintf(w, "resident memory:     %.1f MiB before, %.1f MiB with the sessions: %.1f KiB per idle session\n",
			b.RSS/(1<<20), a.RSS/(1<<20), per(b.RSS, a.RSS)/1024)
		fmt.Fprintf(w, "Go heap in use:      %.1f MiB before, %.1f MiB with the sessions: %.1f KiB per idle session\n",
			b.HeapInuse/(1<<20), a.HeapInuse/(1<<20), per(b.HeapInuse, a.HeapInuse)/1024)
		fmt.Fprintf(w, "goroutines:          %.0f before, %.0f with the sessions: %.1f per idle session\n",
			b.Goroutines, a.Goroutines, per(b.Goroutines, a.Goroutines))
		if r.InProcess {
			fmt.Fprintf(w, "note: the server runs in this process, so these figures include the client's side of every\n"+
				"      session too (its socket, TLS state, buffers and reader goroutine); run the server as a\n"+
				"      separate process (-endpoint) for the server's own cost\n")
		}
	}
}

// summary formats the percentiles of sorted latencies.
func summary(sorted []time.Duration) string {
	if len(sorted) == 0 {
		return "no samples"
	}
	f := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
	}
	return fmt.Sprintf("p50 %s  p99 %s  p99.9 %s  max %s  (%d samples)",
		f(percentile(sorted, 50)), f(percentile(sorted, 99)), f(percentile(sorted, 99.9)), f(sorted[len(sorted)-1]), len(sorted))
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// serverMetrics are the figures read from the server's /metrics.
type serverMetrics struct {
	RSS, HeapInuse, Goroutines, SessionsOpen float64
	CPU                                      float64 // seconds, user and system
}

func (m serverMetrics) ok() bool { return m.RSS > 0 }

// scrape reads the server's /metrics (Prometheus text format). Only
// metrics without labels are looked at.
func (t *target) scrape(ctx context.Context) (serverMetrics, error) {
	var m serverMetrics
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.metricsURL, nil)
	if err != nil {
		return m, err
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return m, fmt.Errorf("GET %s: %s", t.metricsURL, resp.Status)
	}
	values := parseMetrics(resp.Body)
	m.RSS = values["process_resident_memory_bytes"]
	m.HeapInuse = values["go_memstats_heap_inuse_bytes"]
	m.Goroutines = values["go_goroutines"]
	m.SessionsOpen = values["carillon_session_open"]
	m.CPU = values["process_cpu_seconds_total"]
	return m, nil
}

// parseMetrics returns the value of every sample without labels.
func parseMetrics(r io.Reader) map[string]float64 {
	values := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || strings.ContainsRune(f[0], '{') {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			values[f[0]] = v
		}
	}
	return values
}
