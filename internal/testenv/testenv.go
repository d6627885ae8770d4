// Package testenv gives the end-to-end tests of several packages what they
// need from their surroundings: the repository's files, loopback addresses
// a server can come back on, and an environment for the AWS tools (the
// CLI, boto3, the JavaScript SDK) that no profile or variable of the
// machine's can reach.
package testenv

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// module is the first line of the repository's go.mod.
const module = "module github.com/carillonhq/carillon\n"

// RepoPath is the absolute path of elem, joined, under the repository's
// root: the nearest directory above the test's working directory (go test
// runs a test in its package's directory) whose go.mod is Carillon's.
func RepoPath(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), module) {
			return filepath.Join(append([]string{dir}, elem...)...)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod of %s above the working directory", strings.TrimSpace(strings.TrimPrefix(module, "module ")))
		}
		dir = parent
	}
}

// FreeAddrs returns n distinct loopback addresses whose ports were free a
// moment ago, for a server that must come back on the same ports.
func FreeAddrs(t testing.TB, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close() // held until all are picked, so they differ
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs
}

// AWSToolEnv is the environment of an AWS client run as a process: the
// test's, without any AWS_ or CARILLON_ variable, with empty config and
// credentials files of the test's own (so that no profile of the
// machine's interferes, and `aws configure set` writes there), no
// instance metadata and no pager; then extra.
func AWSToolEnv(t testing.TB, extra ...string) []string {
	t.Helper()
	dir := t.TempDir()
	config, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	for _, f := range []string{config, creds} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		upper := strings.ToUpper(kv)
		if !strings.HasPrefix(upper, "AWS_") && !strings.HasPrefix(upper, "CARILLON_") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_CONFIG_FILE="+config, "AWS_SHARED_CREDENTIALS_FILE="+creds, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
	return append(env, extra...)
}
