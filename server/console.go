package server

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/console"
	"github.com/carillonhq/carillon/storecache"
)

// mountConsole serves the web console (package console) at /console/ on
// both listeners, unless Config.DisableConsole. The console's pages are
// static; what they show comes from the API, signed in the browser.
func (s *Server) mountConsole(mux *http.ServeMux) {
	if s.cfg.DisableConsole {
		return
	}
	mux.Handle("GET "+console.Prefix, console.Handler(console.Config{Region: s.cfg.Region}))
	mux.Handle("GET /console", http.RedirectHandler(console.Prefix, http.StatusMovedPermanently))
}

// ConsoleURL is the console's address on the plain listener, or on the
// TLS listener when there is no plain one; "" when the console is off.
func (s *Server) ConsoleURL() string {
	if s.cfg.DisableConsole {
		return ""
	}
	if a := s.Addr(); a != "" {
		return "http://" + a + console.Prefix
	}
	if a := s.TLSAddr(); a != "" {
		return "https://" + a + console.Prefix
	}
	return ""
}

// CallerIdentity is the answer of GET /carillon/caller-identity: who the
// signing key is, as AWS STS's GetCallerIdentity says it. The console
// calls it on sign-in to learn whether the key is root or acts as one
// user.
type CallerIdentity struct {
	AccessKeyID string `json:"AccessKeyId"`
	Root        bool   `json:"Root"`
	// Bearer is the AppInstanceUser or AppInstanceBot a per-user key acts
	// as; absent for root.
	Bearer    string `json:"Bearer,omitempty"`
	Region    string `json:"Region"`
	AccountID string `json:"AccountId"`
}

func (s *Server) callerIdentity(r *http.Request, _ []byte) (any, int, error) {
	c, _ := carillon.CallerFrom(r.Context())
	return CallerIdentity{AccessKeyID: c.AccessKeyID, Root: c.Root, Bearer: c.Bearer, Region: s.cfg.Region, AccountID: s.cfg.AccountID},
		http.StatusOK, nil
}

// Status is the answer of GET /carillon/status (root only): what an
// operator checks first.
type Status struct {
	Version       string
	StartedAt     time.Time
	UptimeSeconds float64
	Region        string
	AccountID     string `json:"AccountId"`
	Store         StoreStatus
	Listeners     ListenerStatus
	// SessionsOpen is the number of messaging sessions (websockets) open.
	SessionsOpen int
	// Metrics are the server's own metric families (carillon_*) and a
	// few of the process's, as /metrics exposes them.
	Metrics []Metric
}

// StoreStatus says which store the server runs on and whether it answers.
type StoreStatus struct {
	// Kind is the store's package: sqlite, postgres…
	Kind string
	// Cached says whether the store cache (package storecache) is in
	// front of it.
	Cached           bool
	OK               bool
	Error            string `json:",omitempty"`
	PingMilliseconds float64
}

// ListenerStatus are the addresses the server listens on, and the one
// GetMessagingSessionEndpoint gives clients.
type ListenerStatus struct {
	HTTP            string `json:",omitempty"`
	HTTPS           string `json:",omitempty"`
	SessionEndpoint string `json:",omitempty"`
}

// Metric is a metric family: counters and gauges have a Value per sample,
// histograms and summaries a Count and a Sum.
type Metric struct {
	Name    string
	Help    string
	Type    string
	Samples []Sample
}

// Sample is one labelled value of a Metric.
type Sample struct {
	Labels map[string]string `json:",omitempty"`
	Value  float64           `json:",omitempty"`
	Count  uint64            `json:",omitempty"`
	Sum    float64           `json:",omitempty"`
}

// processMetrics are the metrics of the process the status shows besides
// the carillon_* ones.
var processMetrics = []string{"go_goroutines", "process_resident_memory_bytes", "process_open_fds", "process_cpu_seconds_total"}

func (s *Server) status(r *http.Request, _ []byte) (any, int, error) {
	st := Status{
		Version:   s.cfg.Version,
		StartedAt: s.started.UTC(),
		Region:    s.cfg.Region,
		AccountID: s.cfg.AccountID,
		Listeners: ListenerStatus{HTTP: s.Addr(), HTTPS: s.TLSAddr(), SessionEndpoint: s.sessionEndpoint()},
	}
	if st.Version == "" {
		st.Version = "devel"
	}
	st.UptimeSeconds = time.Since(s.started).Seconds()
	st.Store = s.storeStatus(r.Context())
	families, err := s.metrics.Gather()
	if err != nil {
		// Gather returns what it could with the error: show that.
		s.log.Warn("status: gather metrics", "cause", err)
	}
	for _, f := range families {
		name := f.GetName()
		if !strings.HasPrefix(name, "carillon_") && !slices.Contains(processMetrics, name) {
			continue
		}
		m := Metric{Name: name, Help: f.GetHelp(), Type: strings.ToLower(f.GetType().String())}
		for _, pm := range f.GetMetric() {
			var smp Sample
			for _, l := range pm.GetLabel() {
				if smp.Labels == nil {
					smp.Labels = map[string]string{}
				}
				smp.Labels[l.GetName()] = l.GetValue()
			}
			fillSample(&smp, f.GetType(), pm)
			m.Samples = append(m.Samples, smp)
		}
		if name == "carillon_session_open" && len(m.Samples) == 1 {
			st.SessionsOpen = int(m.Samples[0].Value)
		}
		st.Metrics = append(st.Metrics, m)
	}
	return st, http.StatusOK, nil
}

func fillSample(smp *Sample, t dto.MetricType, pm *dto.Metric) {
	switch t {
	case dto.MetricType_COUNTER:
		smp.Value = pm.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		smp.Value = pm.GetGauge().GetValue()
	case dto.MetricType_UNTYPED:
		smp.Value = pm.GetUntyped().GetValue()
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		smp.Count, smp.Sum = pm.GetHistogram().GetSampleCount(), pm.GetHistogram().GetSampleSum()
	case dto.MetricType_SUMMARY:
		smp.Count, smp.Sum = pm.GetSummary().GetSampleCount(), pm.GetSummary().GetSampleSum()
	}
}

func (s *Server) storeStatus(ctx context.Context) StoreStatus {
	raw := s.store
	if k, ok := raw.(kickingStore); ok {
		raw = k.Store
	}
	var st StoreStatus
	if c, ok := raw.(*storecache.Cache); ok {
		st.Cached = true
		raw = c.Inner()
	}
	// The store's package names it: sqlite, postgres.
	t := reflect.TypeOf(raw)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	st.Kind = t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start := time.Now()
	err := s.store.Ping(ctx)
	st.PingMilliseconds = float64(time.Since(start).Microseconds()) / 1000
	st.OK = err == nil
	if err != nil {
		st.Error = err.Error()
	}
	return st
}
