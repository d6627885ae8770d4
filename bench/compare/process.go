package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is a server the tool started: Carillon, Centrifugo or the bare
// handler, each in a process of its own so that its CPU and memory are
// its own.
type process struct {
	name   string
	cmd    *exec.Cmd
	pid    int
	ready  chan struct{} // closed when a line of output satisfied the ready function
	exited chan struct{} // closed when the process has ended
	err    error         // why it ended; read after exited

	mu   sync.Mutex
	tail []string // the last lines of its output, for error messages
}

// startProcess starts argv with extra environment, in dir. ready, when
// not nil, is given every line of the process's output (stdout and
// stderr) until it returns true, which closes p.ready.
func startProcess(name string, argv, env []string, dir string, ready func(line string) bool) (*process, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	w.Close()
	p := &process{name: name, cmd: cmd, pid: cmd.Process.Pid, ready: make(chan struct{}), exited: make(chan struct{})}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		isReady := ready == nil
		if isReady {
			close(p.ready)
		}
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.tail = append(p.tail, line)
			if len(p.tail) > 40 {
				p.tail = p.tail[len(p.tail)-40:]
			}
			p.mu.Unlock()
			if !isReady && ready(line) {
				isReady = true
				close(p.ready)
			}
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	go func() {
		p.err = cmd.Wait()
		<-scanned
		close(p.exited)
	}()
	return p, nil
}

// waitReady waits for the ready line, failing if the process ends first.
func (p *process) waitReady(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.ready:
		return nil
	case <-p.exited:
		return fmt.Errorf("%s exited before it was ready (%v):\n%s", p.name, p.err, p.output())
	case <-t.C:
		return fmt.Errorf("%s not ready after %v:\n%s", p.name, timeout, p.output())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// alive reports an error if the process has ended.
func (p *process) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v):\n%s", p.name, p.err, p.output())
	default:
		return nil
	}
}

// output is the last lines the process wrote.
func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "  " + strings.Join(p.tail, "\n  ")
}

// stop asks the process to end (SIGTERM), and kills it if it has not
// within ten seconds.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100
// on every Linux architecture Go supports.
const clockTicks = 100

// cpuSeconds is the CPU time (user and system) the process has used.
func (p *process) cpuSeconds() (float64, error) { return cpuSecondsOf(p.pid) }

// cpuSecondsOf is the CPU time process pid has used.
func cpuSecondsOf(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime from the contents of
// /proc/<pid>/stat. The command name, in parentheses, may hold spaces,
// so fields are counted after its closing parenthesis: state is the
// first of them (field 3), utime the 12th (field 14), stime the 13th.
func parseStatCPU(stat string) (float64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, errors.New("malformed /proc stat")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return float64(utime+stime) / clockTicks, nil
}

// rss is the process's resident memory in bytes.
func (p *process) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0, err
	}
	return parseStatusRSS(string(b))
}

// parseStatusRSS reads VmRSS from the contents of /proc/<pid>/status.
func parseStatusRSS(status string) (int64, error) {
	for line := range strings.Lines(status) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("malformed VmRSS line %q", line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}
