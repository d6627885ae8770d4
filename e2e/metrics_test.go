package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"

	"github.com/carillonhq/carillon/carillontest"
)

// TestAPIMetrics: /metrics counts the API's requests by operation and
// status, and times them.
func TestAPIMetrics(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	e.user(t, "alice")
	_, err := e.id.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: aws.String(e.app + "/user/nobody")})
	wantError(t, err, "ForbiddenException")
	m := e.wsMetrics(t)
	for name, want := range map[string]float64{
		`carillon_api_requests_total{operation="CreateAppInstanceUser",status="201"}`:    1,
		`carillon_api_requests_total{operation="DescribeAppInstanceUser",status="403"}`:  1,
		`carillon_api_request_duration_seconds_count{operation="CreateAppInstanceUser"}`: 1,
	} {
		if m[name] != want {
			t.Errorf("%s = %v, want %v", name, m[name], want)
		}
	}
	// The SQLite store says how its group commit batches the writes:
	// CreateAppInstance and CreateAppInstanceUser committed at least.
	if !carillontest.Postgres() {
		commits := m["carillon_store_commits_total"]
		if commits < 2 || m["carillon_store_commit_batch_requests_count"] != commits || m["carillon_store_commit_batch_requests_sum"] < commits {
			t.Errorf("commits %v, batches %v of %v requests: want at least 2 commits, one batch each",
				commits, m["carillon_store_commit_batch_requests_count"], m["carillon_store_commit_batch_requests_sum"])
		}
	}
}
