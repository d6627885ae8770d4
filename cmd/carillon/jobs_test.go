package main

import (
	"io"
	"strings"
	"testing"
)

// TestJobsIntervalFlag: --jobs-interval and its twin must be a positive
// duration; the server is not started otherwise.
func TestJobsIntervalFlag(t *testing.T) {
	dir := t.TempDir()
	serve := func(args ...string) error {
		return run(t.Context(), append([]string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--tls-listen", ""}, args...), io.Discard, io.Discard)
	}
	for _, v := range []string{"0s", "-1m"} {
		if err := serve("--jobs-interval", v); err == nil || !strings.Contains(err.Error(), "--jobs-interval must be positive") {
			t.Errorf("--jobs-interval %s: %v", v, err)
		}
	}
	t.Setenv("CARILLON_JOBS_INTERVAL", "soon")
	if err := serve(); err == nil || !strings.Contains(err.Error(), "CARILLON_JOBS_INTERVAL") {
		t.Errorf("CARILLON_JOBS_INTERVAL=soon: %v", err)
	}
}
