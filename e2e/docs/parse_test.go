package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocBlockParsing: what the documents' runner takes from a document,
// and what it refuses, without running anything.
func TestDocBlockParsing(t *testing.T) {
	dir := t.TempDir()
	write := func(text string) string {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "doc.md"), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return "doc.md"
	}
	doc := write("# Title\n\n```sh\nprose --not-run\n```\n\n<!-- test: run await=\"Connected as\" -->\n```sh\necho one\n```\n\n" +
		"- item:\n\n  <!-- test: expect -->\n  ```\n  one\n  ```\n<!-- test: run eventually -->\n```sh\nls\n```\n")
	blocks, err := parseDocBlocks(dir, doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 3 {
		t.Fatalf("%d blocks, want 3: %+v", len(blocks), blocks)
	}
	if b := blocks[0]; b.kind != "run" || b.attrs["await"] != "Connected as" || b.body != "echo one\n" || b.line != 8 {
		t.Errorf("first block %+v", b)
	}
	if b := blocks[1]; b.kind != "expect" || b.body != "one\n" {
		t.Errorf("indented block %+v: the fence's indentation must go", b)
	}
	if _, ok := blocks[2].attrs["eventually"]; !ok {
		t.Errorf("eventually attribute lost: %+v", blocks[2])
	}

	for _, bad := range []string{
		"<!-- test: run -->\nsome prose\n```sh\necho\n```\n",
		"<!-- test: frobnicate -->\n```sh\necho\n```\n",
		"<!-- test: run -->\n```sh\necho\n",
	} {
		if _, err := parseDocBlocks(dir, write(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// TestDocOutputMatching: "…" matches anything, blanks are normalized,
// blank lines ignored, and every line must be there, no more.
func TestDocOutputMatching(t *testing.T) {
	ports := strings.NewReplacer("127.0.0.1:8080", "127.0.0.1:41234")
	expect := &docBlock{doc: "d", body: "Bob\nAlice   Hello, Bob\nhttp://127.0.0.1:8080 CKIA…\n"}
	if err := matchOutput(expect, "Bob\n\nAlice\tHello, Bob\nhttp://127.0.0.1:41234 CKIAXYZ\n", ports); err != nil {
		t.Errorf("a matching output: %v", err)
	}
	for _, out := range []string{
		"Bob\nAlice\tHello, Bob\n",                                      // a line missing
		"Bob\nAlice\tHello, Bob\nhttp://127.0.0.1:41234 CKIAX\nextra\n", // a line more
		"Bob\nAlice\tHello, Bobby\nhttp://127.0.0.1:41234 CKIAX\n",      // a line differs
		"Bob\nAlice\tHello, Bob\nhttp://127.0.0.1:8080 CKIAX\n",         // the port the test did not choose
	} {
		if err := matchOutput(expect, out, ports); err == nil {
			t.Errorf("matched %q", out)
		}
	}
}

// TestDocContainsOutput: a failing block's expect lists lines its output
// contains, in order.
func TestDocContainsOutput(t *testing.T) {
	ports := strings.NewReplacer()
	expect := &docBlock{doc: "d", body: "An error occurred (ForbiddenException) when calling the … operation: …\n"}
	if err := containsOutput(expect, "warning: something\n\nAn error occurred (ForbiddenException) when calling the ListChannelMessages operation: no\n", ports); err != nil {
		t.Errorf("a matching output: %v", err)
	}
	if err := containsOutput(expect, "An error occurred (NotFoundException) when calling the X operation: no\n", ports); err == nil {
		t.Error("matched another error")
	}
	two := &docBlock{doc: "d", body: "b\na\n"}
	if err := containsOutput(two, "a\nb\n", ports); err == nil {
		t.Error("matched lines out of order")
	}
}
