package testenv

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRepoPath(t *testing.T) {
	got := RepoPath(t, "internal", "testenv", "testenv.go")
	if _, err := os.Stat(got); err != nil {
		t.Fatalf("RepoPath: %v", err)
	}
	if !filepath.IsAbs(got) {
		t.Errorf("RepoPath %q is not absolute", got)
	}
}

func TestFreeAddrs(t *testing.T) {
	addrs := FreeAddrs(t, 3)
	if len(addrs) != 3 || addrs[0] == addrs[1] || addrs[1] == addrs[2] || addrs[0] == addrs[2] {
		t.Errorf("FreeAddrs(3) = %v, want 3 distinct addresses", addrs)
	}
}

func TestAWSToolEnv(t *testing.T) {
	t.Setenv("AWS_PROFILE", "machine")
	t.Setenv("CARILLON_DATA_DIR", "/elsewhere")
	env := AWSToolEnv(t, "AWS_REGION=us-east-1")
	for _, kv := range env {
		if strings.HasPrefix(kv, "AWS_PROFILE=") || strings.HasPrefix(kv, "CARILLON_") {
			t.Errorf("the machine's %s reaches the tool", kv)
		}
	}
	if !slices.Contains(env, "AWS_REGION=us-east-1") || env[len(env)-1] != "AWS_REGION=us-east-1" {
		t.Error("extra is not last")
	}
	for _, kv := range env {
		if f, ok := strings.CutPrefix(kv, "AWS_CONFIG_FILE="); ok {
			if b, err := os.ReadFile(f); err != nil || len(b) != 0 {
				t.Errorf("config file %s: %q, %v; want it empty", f, b, err)
			}
			return
		}
	}
	t.Error("no AWS_CONFIG_FILE")
}
