package server

import (
	"context"

	"github.com/carillonhq/carillon/jobs"
)

// RunJobs runs the background jobs (expiration and retention) once, now,
// by the server's clock, besides their runs every interval while the
// server serves; it waits for a run under way. Tests that move the clock
// call it rather than waiting for the interval.
func (s *Server) RunJobs(ctx context.Context) (jobs.Report, error) {
	return s.jobs.RunOnce(ctx)
}
