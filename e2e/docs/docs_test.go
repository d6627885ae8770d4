// Package docs runs the commands of the repository's documents
// (TestDocsRunAsWritten). It is a package of its own, apart from e2e, so
// that its minutes of builds and CLI calls have a test timeout of their
// own.
package docs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/carillonhq/carillon/internal/testenv"
)

// The documents whose marked shell blocks TestDocsRunAsWritten runs, in
// this order, in one shell session: the others go on from the README's
// quickstart (its variables, its server, its AWS CLI profiles).
var runnableDocs = []string{"README.md", "docs/channel-flows.md", "docs/troubleshooting.md"}

// TestDocsRunAsWritten runs the marked blocks of README.md,
// docs/channel-flows.md and docs/troubleshooting.md as a newcomer would: in a copy of the repository,
// with the machine's bash, Go, AWS CLI and Node, against the server the
// README starts. A block that fails, or whose output is not what the
// document shows, fails the test.
//
// A block is marked by an HTML comment on the line before its fence:
//
//	<!-- test: run -->            run it with bash -euo pipefail; its variables and working
//	                              directory carry over to the next block, as in one terminal
//	<!-- test: run await="X" -->  then wait until the output of a block (a job it left in
//	                              the background) contains X
//	<!-- test: run eventually --> run it again, for up to 30 s, until it and its expect pass
//	                              ("a moment later")
//	<!-- test: fails -->          run it; it must fail, and its expect lists lines its output
//	                              (standard output and error) must contain, in order
//	<!-- test: serve -->          stop the server an earlier serve block started (Ctrl-C), and
//	                              start this one in the background (its own terminal); wait
//	                              for /healthz
//	<!-- test: server-output -->  the server's first output, as the document shows it: each
//	                              line must match the server's actual output, and the indented
//	                              lines, commands, are run from the actual output (their keys)
//	<!-- test: expect -->         the standard output of the run block before, as shown
//	<!-- test: file path="P" -->  the block is the content of the file P, which is written
//
// In expected output "…" matches anything and runs of blanks are one;
// blank lines are ignored. Unmarked blocks are prose and are not run.
//
// One thing differs from a newcomer's machine: tests never bind fixed
// ports. The servers listen on free ports (CARILLON_LISTEN and
// CARILLON_TLS_LISTEN, the flags' environment twins), and 127.0.0.1:8080,
// 127.0.0.1:8443 and 127.0.0.1:9000 in the blocks stand for the HTTP,
// HTTPS and channel flow processor ports the test chose.
func TestDocsRunAsWritten(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "go", "aws", "node", "npm", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is required to run the documents' commands: %v", tool, err)
		}
	}
	root := repoRoot(t)
	var blocks []docBlock
	for _, doc := range runnableDocs {
		b, err := parseDocBlocks(root, doc)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			t.Fatalf("%s has no block marked <!-- test: … -->", doc)
		}
		blocks = append(blocks, b...)
	}
	r := newDocRunner(t, root)
	for i := 0; i < len(blocks); i++ {
		b := blocks[i]
		var expect *docBlock
		if (b.kind == "run" || b.kind == "fails") && i+1 < len(blocks) && blocks[i+1].kind == "expect" {
			expect = &blocks[i+1]
			i++
		}
		began := time.Now()
		r.do(b, expect)
		t.Logf("%s: %s (%v)", b.where(), b.kind, time.Since(began).Round(time.Millisecond))
	}
}

// docBlock is a marked fenced block of a document.
type docBlock struct {
	doc   string
	line  int // of the fence
	kind  string
	attrs map[string]string
	body  string
}

func (b docBlock) where() string { return fmt.Sprintf("%s:%d", b.doc, b.line) }

var (
	docMarker = regexp.MustCompile(`^\s*<!-- test: (\S+)(.*?)\s*-->\s*$`)
	docAttr   = regexp.MustCompile(`(\w+)(?:="([^"]*)")?`)
	docKinds  = map[string]bool{"run": true, "fails": true, "serve": true, "server-output": true, "expect": true, "file": true}
)

// parseDocBlocks returns the marked blocks of a document, in order. A
// marker must stand right before a fence; the block's lines lose the
// fence's indentation.
func parseDocBlocks(root, doc string) ([]docBlock, error) {
	f, err := os.Open(filepath.Join(root, doc))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		out     []docBlock
		pending *docBlock
		inBlock bool
		indent  string
		body    []string
		n       int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case inBlock && strings.HasPrefix(trimmed, "```"):
			inBlock = false
			if pending != nil {
				pending.body = strings.Join(body, "\n") + "\n"
				out = append(out, *pending)
				pending = nil
			}
		case inBlock:
			body = append(body, strings.TrimPrefix(line, indent))
		case strings.HasPrefix(trimmed, "```"):
			inBlock, body = true, nil
			indent = line[:len(line)-len(strings.TrimLeft(line, " "))]
			if pending != nil {
				pending.line = n
			}
		case docMarker.MatchString(line):
			m := docMarker.FindStringSubmatch(line)
			if !docKinds[m[1]] {
				return nil, fmt.Errorf("%s:%d: unknown test marker %q", doc, n, m[1])
			}
			b := &docBlock{doc: doc, kind: m[1], attrs: map[string]string{}}
			for _, a := range docAttr.FindAllStringSubmatch(m[2], -1) {
				b.attrs[a[1]] = a[2]
			}
			pending = b
		case pending != nil && trimmed != "":
			return nil, fmt.Errorf("%s:%d: a test marker must stand right before a fenced block", doc, n)
		}
	}
	if pending != nil || inBlock {
		return nil, fmt.Errorf("%s: a marked block is not closed", doc)
	}
	return out, sc.Err()
}

// repoRoot is the repository's root directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	return testenv.RepoPath(t)
}

// docRunner runs blocks in a copy of the repository, one bash process per
// block, carrying the exported variables and the working directory from
// one to the next.
type docRunner struct {
	t        *testing.T
	work     string // the copy: the clone a newcomer works in
	state    string // the directory of the shell state and the outputs
	env      []string
	ports    *strings.Replacer
	listen   string
	n        int
	outputs  []string // every block's output files, for await
	groups   []int    // process groups left running
	server   *exec.Cmd
	exited   chan struct{} // closed when the server's process has exited
	serverID int           // the n of the server's block
	lastOut  string
}

func newDocRunner(t *testing.T, root string) *docRunner {
	t.Helper()
	base := t.TempDir()
	r := &docRunner{t: t, work: filepath.Join(base, "carillon"), state: filepath.Join(base, "state")}
	if err := copyTree(root, r.work); err != nil {
		t.Fatalf("copying the repository: %v", err)
	}
	if err := os.Mkdir(r.state, 0o700); err != nil {
		t.Fatal(err)
	}
	addrs := testenv.FreeAddrs(t, 3)
	r.listen = addrs[0]
	r.ports = strings.NewReplacer("127.0.0.1:8080", addrs[0], "127.0.0.1:8443", addrs[1], "127.0.0.1:9000", addrs[2])
	r.env = append(testenv.AWSToolEnv(t), "CARILLON_LISTEN="+addrs[0], "CARILLON_TLS_LISTEN="+addrs[1])
	if err := os.WriteFile(filepath.Join(r.state, "pwd"), []byte(r.work), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.cleanup)
	return r
}

// copyTree copies the repository as a clone holds it: without .git,
// installed npm packages, a data directory or a built binary.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		switch {
		case d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "carillon-data"):
			return filepath.SkipDir
		case rel == "carillon" && !d.IsDir():
			return nil
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
}

func (r *docRunner) do(b docBlock, expect *docBlock) {
	r.t.Helper()
	switch b.kind {
	case "run":
		r.run(b, expect)
	case "fails":
		r.fails(b, expect)
	case "serve":
		r.serve(b)
	case "server-output":
		r.serverOutput(b)
	case "file":
		r.file(b)
	case "expect":
		r.t.Fatalf("%s: an expect block must follow a run or fails block", b.where())
	}
}

// script is the bash script of a block: the state of the blocks before,
// the block under -euo pipefail with every variable exported, then the
// state it leaves.
func (r *docRunner) script(body string, saveState bool) string {
	st := filepath.Join(r.state, "env")
	pwd := filepath.Join(r.state, "pwd")
	var s strings.Builder
	fmt.Fprintf(&s, "set -a\n[ -f %q ] && . %q\ncd \"$(cat %q)\"\nset -euo pipefail\n", st, st, pwd)
	s.WriteString(r.ports.Replace(body))
	if saveState {
		fmt.Fprintf(&s, "\nset +eu\nexport -p > %q.new && mv %q.new %q\npwd > %q\n", st, st, st, pwd)
	}
	return s.String()
}

// start starts a block's script in a process group of its own, its
// output in files; it returns the command and the files' paths.
func (r *docRunner) start(body string, saveState bool) (cmd *exec.Cmd, stdout, stderr string) {
	r.t.Helper()
	r.n++
	script := filepath.Join(r.state, fmt.Sprintf("block-%02d.sh", r.n))
	stdout = filepath.Join(r.state, fmt.Sprintf("block-%02d.out", r.n))
	stderr = filepath.Join(r.state, fmt.Sprintf("block-%02d.err", r.n))
	if err := os.WriteFile(script, []byte(r.script(body, saveState)), 0o600); err != nil {
		r.t.Fatal(err)
	}
	outF, err := os.Create(stdout)
	if err != nil {
		r.t.Fatal(err)
	}
	defer outF.Close()
	errF, err := os.Create(stderr)
	if err != nil {
		r.t.Fatal(err)
	}
	defer errF.Close()
	cmd = exec.Command("bash", "--noprofile", "--norc", script)
	cmd.Dir = r.work
	cmd.Env = r.env
	// Files, not pipes: a job the block leaves in the background keeps
	// writing to them, and Wait does not wait for it.
	cmd.Stdout, cmd.Stderr = outF, errF
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.groups = append(r.groups, cmd.Process.Pid)
	r.outputs = append(r.outputs, stdout, stderr)
	return cmd, stdout, stderr
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// runOnce runs a block to its end (at most 10 minutes: a build, an npm
// install) and returns its standard output and error, and, if it failed,
// an error that shows both.
func (r *docRunner) runOnce(b docBlock, body string) (string, string, error) {
	cmd, stdout, stderr := r.start(body, true)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Minute):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		err = errors.New("timed out after 10 minutes")
	}
	out, errOut := readFile(stdout), readFile(stderr)
	if err != nil {
		return out, errOut, fmt.Errorf("%s: %v\n--- block:\n%s--- stdout:\n%s--- stderr:\n%s%s", b.where(), err, body, out, errOut, r.serverLog())
	}
	return out, errOut, nil
}

func (r *docRunner) run(b docBlock, expect *docBlock) {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _, err := r.runOnce(b, b.body)
		if err == nil && expect != nil {
			err = matchOutput(expect, out, r.ports)
		}
		if err == nil {
			r.lastOut = out
			break
		}
		if _, again := b.attrs["eventually"]; !again || time.Now().After(deadline) {
			r.t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if text, ok := b.attrs["await"]; ok {
		r.await(b, r.ports.Replace(text))
	}
}

// fails runs a block that must fail, with the messages its expect shows.
func (r *docRunner) fails(b docBlock, expect *docBlock) {
	r.t.Helper()
	out, errOut, err := r.runOnce(b, b.body)
	if err == nil {
		r.t.Fatalf("%s: the block succeeded; the document says it fails\n--- stdout:\n%s--- stderr:\n%s", b.where(), out, errOut)
	}
	if expect == nil {
		r.t.Fatalf("%s: a fails block needs an expect block with its messages", b.where())
	}
	if err := containsOutput(expect, out+"\n"+errOut, r.ports); err != nil {
		r.t.Fatal(err)
	}
}

// await waits until some block's output contains text.
func (r *docRunner) await(b docBlock, text string) {
	r.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		for _, f := range r.outputs {
			if strings.Contains(readFile(f), text) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	var all strings.Builder
	for _, f := range r.outputs {
		fmt.Fprintf(&all, "--- %s:\n%s", filepath.Base(f), readFile(f))
	}
	r.t.Fatalf("%s: nothing printed %q within 90 s\n%s%s", b.where(), text, all.String(), r.serverLog())
}

func (r *docRunner) serverLog() string {
	if r.server == nil {
		return ""
	}
	return fmt.Sprintf("\n--- the server's output:\n%s%s",
		readFile(filepath.Join(r.state, fmt.Sprintf("block-%02d.out", r.serverID))),
		readFile(filepath.Join(r.state, fmt.Sprintf("block-%02d.err", r.serverID))))
}

// stopServer stops the running server as Ctrl-C in its terminal would.
func (r *docRunner) stopServer() error {
	if r.server == nil {
		return nil
	}
	pid, exited := r.server.Process.Pid, r.exited
	r.server = nil
	_ = syscall.Kill(-pid, syscall.SIGINT)
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
		return errors.New("the server did not stop within 30 s of SIGINT")
	}
}

func (r *docRunner) serve(b docBlock) {
	r.t.Helper()
	if err := r.stopServer(); err != nil {
		r.t.Fatalf("%s: %v", b.where(), err)
	}
	cmd, _, _ := r.start(b.body, false)
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	r.server, r.exited, r.serverID = cmd, exited, r.n
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := client.Get("http://" + r.listen + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			r.t.Fatalf("%s: the server exited\n--- block:\n%s%s", b.where(), b.body, r.serverLog())
		case <-time.After(100 * time.Millisecond):
		}
	}
	r.t.Fatalf("%s: the server did not answer /healthz on %s\n--- block:\n%s%s", b.where(), r.listen, b.body, r.serverLog())
}

// serverOutput checks the server's first output against the document's
// and runs the commands it printed.
func (r *docRunner) serverOutput(b docBlock) {
	r.t.Helper()
	if r.server == nil {
		r.t.Fatalf("%s: server-output without a server started by a serve block", b.where())
	}
	actual := nonBlankLines(readFile(filepath.Join(r.state, fmt.Sprintf("block-%02d.out", r.serverID))))
	var commands []string
	next := 0
	for _, want := range nonBlankLines(b.body) {
		re := outputPattern(r.ports.Replace(want))
		found := false
		for next < len(actual) {
			got := actual[next]
			next++
			if re.MatchString(normalizeBlanks(got)) {
				found = true
				if strings.HasPrefix(want, "  ") {
					commands = append(commands, strings.TrimSpace(got))
				}
				break
			}
		}
		if !found {
			r.t.Fatalf("%s: the server did not print a line like %q\n%s", b.where(), want, r.serverLog())
		}
	}
	if len(commands) == 0 {
		r.t.Fatalf("%s: the server's output shows no command (indented line) to run", b.where())
	}
	body := strings.Join(commands, "\n") + "\n"
	if _, _, err := r.runOnce(b, body); err != nil {
		r.t.Fatal(err)
	}
}

// file writes a block as the file its marker names, relative to the
// shell's working directory.
func (r *docRunner) file(b docBlock) {
	r.t.Helper()
	p := b.attrs["path"]
	if p == "" {
		r.t.Fatalf("%s: a file block needs path=", b.where())
	}
	pwd := strings.TrimSpace(readFile(filepath.Join(r.state, "pwd")))
	if !filepath.IsAbs(p) {
		p = filepath.Join(pwd, p)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(b.body), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *docRunner) cleanup() {
	_ = r.stopServer()
	for _, pgid := range r.groups {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
	}
	time.Sleep(200 * time.Millisecond)
	for _, pgid := range r.groups {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// matchOutput checks a block's standard output against an expect block:
// line for line, blank lines ignored.
func matchOutput(expect *docBlock, out string, ports *strings.Replacer) error {
	want, got := nonBlankLines(expect.body), nonBlankLines(out)
	if len(want) != len(got) {
		return fmt.Errorf("%s: %d lines of output, want %d\n--- want:\n%s--- got:\n%s", expect.where(), len(got), len(want), expect.body, out)
	}
	for i := range want {
		if !outputPattern(ports.Replace(want[i])).MatchString(normalizeBlanks(got[i])) {
			return fmt.Errorf("%s: line %d is %q, want %q\n--- got:\n%s", expect.where(), i+1, got[i], want[i], out)
		}
	}
	return nil
}

// containsOutput checks that the lines of an expect block are lines of
// out, in order, other lines between them allowed.
func containsOutput(expect *docBlock, out string, ports *strings.Replacer) error {
	got := nonBlankLines(out)
	next := 0
	for _, w := range nonBlankLines(expect.body) {
		re := outputPattern(ports.Replace(w))
		for next < len(got) && !re.MatchString(normalizeBlanks(got[next])) {
			next++
		}
		if next == len(got) {
			return fmt.Errorf("%s: the output has no line %q (after the lines before it)\n--- output:\n%s", expect.where(), w, out)
		}
		next++
	}
	return nil
}

func nonBlankLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func normalizeBlanks(s string) string { return strings.Join(strings.Fields(s), " ") }

// outputPattern matches a line of shown output: "…" for anything, runs
// of blanks as one.
func outputPattern(line string) *regexp.Regexp {
	parts := strings.Split(normalizeBlanks(line), "…")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}
