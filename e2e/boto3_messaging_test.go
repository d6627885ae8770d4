package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/internal/testenv"
)

// TestPythonMessagingSmoke drives the messaging REST API with boto3
// (python/messaging_smoke.py) over HTTPS: channel, send, list, edit,
// redact, and the modelled ForbiddenException.
func TestPythonMessagingSmoke(t *testing.T) {
	t.Parallel()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 with boto3 is required for this test: %v", err)
	}
	script := pythonScript(t, "messaging_smoke.py")
	srv := carillontest.New(t)
	caFile := filepath.Join(t.TempDir(), "carillon-ca.pem")
	if err := os.WriteFile(caFile, srv.Server.CertificatePEM(), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, python, script)
	cmd.Env = testenv.AWSToolEnv(t,
		"CARILLON_ENDPOINT="+srv.TLSEndpoint,
		"AWS_REGION="+srv.Region,
		"AWS_ACCESS_KEY_ID="+srv.Root.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+srv.Root.SecretAccessKey,
		"AWS_CA_BUNDLE="+caFile)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("messaging_smoke.py: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "PASS") {
		t.Fatalf("messaging_smoke.py exited 0 without PASS; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}
