package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// column is a server of the table.
type column int

const (
	colCarillon column = iota
	colCentrifugo
	colBare
)

var columnNames = [...]string{"Carillon", "Centrifugo", "bare net/http"}

func (c column) String() string { return columnNames[c] }

// figure is a row of the table: one figure of a scenario.
type figure struct {
	name string
	// value is the figure of one run, and whether it applies (the bare
	// handler has no sessions, so no deliveries).
	value  func(m measurement) (float64, bool)
	format func(float64) string
	// ratio: the Carillon/other ratios are shown.
	ratio bool
	// cell, when set, renders the cell from every run instead (for the
	// totals over runs).
	cell func(ms []measurement) string
}

// caseResult is what every run of one case measured.
type caseResult struct {
	spec *caseSpec
	ms   map[column][]measurement
	errs map[column][]string
}

// report is the comparison's output.
type report struct {
	title   string
	command string
	machine machine
	header  []string // more lines of the header
	cases   []*caseResult
	absent  map[column]string // servers that did not run, and why
}

// median of values (the mean of the middle two for an even count).
func median(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	s := slices.Clone(values)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// values is a figure's value in every run where it applies.
func (f figure) values(ms []measurement) []float64 {
	var out []float64
	for _, m := range ms {
		if v, ok := f.value(m); ok && !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

// text renders a cell: the median, and the runs' range when there were
// several.
func (f figure) text(ms []measurement) string {
	if f.cell != nil {
		return f.cell(ms)
	}
	v := f.values(ms)
	if len(v) == 0 {
		return "—"
	}
	s := f.format(median(v))
	if lo, hi := f.format(slices.Min(v)), f.format(slices.Max(v)); lo != hi {
		s += fmt.Sprintf(" (%s–%s)", lo, hi)
	}
	return s
}

// ratio renders median(a)/median(b), or "—".
func (f figure) ratioText(a, b []measurement) string {
	if !f.ratio || f.value == nil {
		return "—"
	}
	va, vb := f.values(a), f.values(b)
	if len(va) == 0 || len(vb) == 0 {
		return "—"
	}
	den := median(vb)
	if den == 0 {
		return "—"
	}
	return formatRatio(median(va) / den)
}

func formatRatio(r float64) string {
	switch {
	case r >= 10:
		return fmt.Sprintf("%.0f×", r)
	case r >= 1:
		return fmt.Sprintf("%.2f×", r)
	default:
		return fmt.Sprintf("%.3g×", r)
	}
}

// formatCount writes n rounded, with thousands separators.
func formatCount(v float64) string {
	n := int64(math.Round(v))
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatMillis writes a duration (v is in seconds) in milliseconds with
// three significant digits, or in seconds from ten seconds on.
func formatMillis(v float64) string {
	ms := v * 1000
	switch {
	case v >= 100:
		return formatCount(v) + " s"
	case v >= 10:
		return fmt.Sprintf("%.1f s", v)
	case ms >= 1000:
		return formatCount(ms) + " ms"
	case ms >= 100:
		return fmt.Sprintf("%.0f ms", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f ms", ms)
	case ms >= 1:
		return fmt.Sprintf("%.2f ms", ms)
	default:
		return fmt.Sprintf("%.3f ms", ms)
	}
}

// formatMicros writes seconds in microseconds, three significant digits.
func formatMicros(v float64) string {
	us := v * 1e6
	switch {
	case us >= 100:
		return formatCount(us) + " µs"
	case us >= 10:
		return fmt.Sprintf("%.1f µs", us)
	default:
		return fmt.Sprintf("%.2f µs", us)
	}
}

func formatPercent(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }

func formatKiB(v float64) string { return fmt.Sprintf("%.1f KiB", v/1024) }

func seconds(d time.Duration) float64 { return d.Seconds() }

// Figures.
var (
	figPublishes = figure{name: "publishes/s (acknowledged)", ratio: true, format: formatCount,
		value: func(m measurement) (float64, bool) { return m.PublishRate(), m.PublishWindow > 0 }}
	figDelivered = figure{name: "delivered events/s", ratio: true, format: formatCount,
		value: func(m measurement) (float64, bool) { return m.DeliveryRate(), m.Sessions > 0 }}
	figP50 = figure{name: "publish→deliver p50", ratio: true, format: formatMillis,
		value: func(m measurement) (float64, bool) { return seconds(m.P50), m.Delivered > 0 }}
	figP99 = figure{name: "publish→deliver p99", ratio: true, format: formatMillis,
		value: func(m measurement) (float64, bool) { return seconds(m.P99), m.Delivered > 0 }}
	figP999 = figure{name: "publish→deliver p99.9", ratio: true, format: formatMillis,
		value: func(m measurement) (float64, bool) { return seconds(m.P999), m.Delivered > 0 }}
	figCPU = figure{name: "server CPU (100% = one core)", format: formatPercent,
		value: func(m measurement) (float64, bool) { return m.CPU, m.PublishWindow > 0 }}
	figCPUPerPublish = figure{name: "server CPU per acknowledged publish", ratio: true, format: formatMicros,
		value: func(m measurement) (float64, bool) {
			return m.CPUSeconds / float64(m.Acked), m.Acked > 0 && m.CPUSeconds > 0
		}}
	figCPUPerEvent = figure{name: "server CPU per delivered event", ratio: true, format: formatMicros,
		value: func(m measurement) (float64, bool) {
			return m.CPUSeconds / float64(m.Delivered), m.Delivered > 0 && m.CPUSeconds > 0
		}}
	figGenCPU = figure{name: "load generator CPU", format: formatPercent,
		value: func(m measurement) (float64, bool) { return m.GeneratorCPU, m.PublishWindow > 0 }}
	figMissing = figure{name: "deliveries missing, all runs", cell: missingCell}
	figIdle    = figure{name: "resident memory per session", ratio: true, format: formatKiB,
		value: func(m measurement) (float64, bool) { return m.PerSession(), m.Sessions > 0 }}
	figOpen = figure{name: "sessions open", format: formatCount,
		value: func(m measurement) (float64, bool) { return float64(m.Sessions), true }}
)

// missingCell sums, over the runs, the deliveries of acknowledged
// messages that never came, out of those expected.
func missingCell(ms []measurement) string {
	var missing, expected int64
	sessions := false
	for _, m := range ms {
		missing += m.Missing()
		expected += m.Expected
		sessions = sessions || m.Sessions > 0
	}
	if !sessions {
		return "—"
	}
	return fmt.Sprintf("%s of %s", formatCount(float64(missing)), formatCount(float64(expected)))
}

// write renders the report as Markdown.
func (r *report) write(w io.Writer) {
	fmt.Fprintf(w, "## %s\n\n", r.title)
	fmt.Fprintf(w, "- Command: `%s`\n", r.command)
	mc := r.machine
	load := ""
	if mc.Load != "" {
		load = "; load average " + mc.Load + " at the start"
	}
	fmt.Fprintf(w, "- Machine: %d cores (%s), %s, %s%s\n", mc.Cores, mc.CPU, mc.OS, mc.GoVersion, load)
	for _, h := range r.header {
		fmt.Fprintf(w, "- %s\n", h)
	}
	for _, c := range []column{colCarillon, colCentrifugo, colBare} {
		if why, ok := r.absent[c]; ok {
			fmt.Fprintf(w, "- **%s absent**: %s\n", c, why)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | figure | Carillon | Centrifugo | bare net/http | Carillon/Centrifugo | Carillon/bare |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|")
	for _, cr := range r.cases {
		centrifugo := cr.ms[colCentrifugo]
		if cr.spec.ratioTo != nil {
			for _, other := range r.cases {
				if other.spec == cr.spec.ratioTo {
					centrifugo = other.ms[colCentrifugo]
				}
			}
		}
		for i, f := range cr.spec.figures {
			title := ""
			if i == 0 {
				title = cr.spec.title
			}
			cells := make([]string, 3)
			for c := range cells {
				col := column(c)
				switch {
				case !slices.Contains(cr.spec.columns, col):
					cells[c] = "—"
				case len(cr.ms[col]) == 0:
					cells[c] = "no result"
					if _, ok := r.absent[col]; ok {
						cells[c] = "absent"
					}
				default:
					cells[c] = f.text(cr.ms[col])
				}
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", title, f.name, cells[0], cells[1], cells[2],
				f.ratioText(cr.ms[colCarillon], centrifugo), f.ratioText(cr.ms[colCarillon], cr.ms[colBare]))
		}
	}
	if notes := r.notes(); len(notes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Notes:")
		for _, n := range notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

// notes lists what every figure must be read with: failed runs, sessions
// that did not open or were closed, publishes that failed, duplicates.
func (r *report) notes() []string {
	var out []string
	for _, cr := range r.cases {
		for _, col := range cr.spec.columns {
			who := fmt.Sprintf("%s, %s", cr.spec.title, col)
			for _, e := range cr.errs[col] {
				out = append(out, fmt.Sprintf("%s: a run failed: %s", who, oneLine(e)))
			}
			var (
				openFailed, closed, reconnects       int
				stalled                              int
				errs, dups, unacked, timeouts, acked int64
				unsent                               int64
				first                                string
				closes, opens, redials               = map[string]int{}, map[string]int{}, map[string]int{}
			)
			for _, m := range cr.ms[col] {
				openFailed += m.OpenFailed
				for k, v := range m.OpenErrors {
					opens[k] += v
				}
				for k, v := range m.Closes {
					closes[k] += v
					closed += v
				}
				for k, v := range m.RedialErrors {
					redials[k] += v
				}
				reconnects += m.Reconnects
				stalled += m.Stalled
				errs += m.Errors
				acked += m.Acked
				dups += m.Duplicates
				unacked += m.Unacked
				timeouts += m.FanoutTimeouts
				unsent += m.Unsent
				if first == "" {
					first = m.FirstError
				}
			}
			if openFailed > 0 {
				out = append(out, fmt.Sprintf("%s: %s sessions failed to open (%s)", who, formatCount(float64(openFailed)), summarize(opens)))
			}
			if stalled > 0 {
				out = append(out, fmt.Sprintf("%s: %s sessions stopped reading for a while, on purpose (-stall-sessions)", who, formatCount(float64(stalled))))
			}
			if closed > 0 {
				out = append(out, fmt.Sprintf("%s: the server closed %s connections (%s); %s reconnected with the same sessionId", who,
					formatCount(float64(closed)), summarize(closes), formatCount(float64(reconnects))))
			}
			if len(redials) > 0 {
				out = append(out, fmt.Sprintf("%s: reconnections failed and were retried (%s)", who, summarize(redials)))
			}
			if errs > 0 {
				out = append(out, fmt.Sprintf("%s: %s publishes failed, %s acknowledged; the first failure: %s", who, formatCount(float64(errs)), formatCount(float64(acked)), oneLine(first)))
			}
			if unacked > 0 {
				out = append(out, fmt.Sprintf("%s: %s deliveries of messages whose publish failed", who, formatCount(float64(unacked))))
			}
			if dups > 0 {
				out = append(out, fmt.Sprintf("%s: %s duplicate deliveries (counted once)", who, formatCount(float64(dups))))
			}
			if unsent > 0 {
				out = append(out, fmt.Sprintf("%s: %s scheduled messages were never sent: the server was that far behind the schedule when the time was up (the latency figures are those of the messages sent)", who, formatCount(float64(unsent))))
			}
			if timeouts > 0 {
				out = append(out, fmt.Sprintf("%s: %s times a publisher gave up waiting for its message to reach every session", who, formatCount(float64(timeouts))))
			}
		}
	}
	return out
}

func summarize(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d × %s", m[k], oneLine(k))
	}
	return strings.Join(parts, "; ")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
