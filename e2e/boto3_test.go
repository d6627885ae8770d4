package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/carillonhq/carillon/internal/testenv"
)

// pythonScript returns the path of a script under e2e/python.
func pythonScript(t *testing.T, name string) string {
	t.Helper()
	p := testenv.RepoPath(t, "e2e", "python", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPythonClients drives the server with boto3 (identity_smoke.py) and
// the AWS CLI.
func TestPythonClients(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	goAI := e.createAppInstance(t, "Made in Go")

	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 with boto3 is required for this test: %v", err)
	}
	script := pythonScript(t, "identity_smoke.py")
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), python, script, e.srv.Endpoint, e.srv.Region)
	cmd.Env = testenv.AWSToolEnv(t, "AWS_ACCESS_KEY_ID="+e.srv.Root.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+e.srv.Root.SecretAccessKey)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("identity_smoke.py: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var pyAI string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "APP_INSTANCE_ARN="); ok {
			pyAI = strings.TrimSpace(v)
		}
	}
	if !appInstanceARNPattern.MatchString(pyAI) {
		t.Fatalf("identity_smoke.py did not report its AppInstance; stdout:\n%s", stdout.String())
	}

	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI is required for this test: %v", err)
	}
	stdout.Reset()
	stderr.Reset()
	cmd = exec.CommandContext(t.Context(), aws, "chime-sdk-identity", "list-app-instances",
		"--endpoint-url", e.srv.Endpoint, "--output", "json")
	cmd.Env = testenv.AWSToolEnv(t, "AWS_ACCESS_KEY_ID="+e.srv.Root.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+e.srv.Root.SecretAccessKey,
		"AWS_DEFAULT_REGION="+e.srv.Region)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("aws chime-sdk-identity list-app-instances: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var listed struct {
		AppInstances []struct {
			AppInstanceArn, Name string
			Metadata             *string
		}
		NextToken *string
	}
	if err := json.Unmarshal(stdout.Bytes(), &listed); err != nil {
		t.Fatalf("aws CLI output is not the expected JSON: %v\n%s", err, stdout.String())
	}
	found := map[string]string{}
	for _, a := range listed.AppInstances {
		found[a.AppInstanceArn] = a.Name
	}
	if len(listed.AppInstances) != 2 || found[goAI] != "Made in Go" || found[pyAI] != "Python smoke" || listed.NextToken != nil {
		t.Errorf("aws CLI listed %s, want %s (Made in Go) and %s (Python smoke)", stdout.String(), goAI, pyAI)
	}
}
