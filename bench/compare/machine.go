package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// machine describes where the comparison ran.
type machine struct {
	Cores     int
	CPU       string
	OS        string
	GoVersion string
	Load      string // load averages at the start (1, 5, 15 minutes)
}

func describeMachine() machine {
	m := machine{Cores: runtime.NumCPU(), CPU: "unknown CPU", OS: runtime.GOOS + "/" + runtime.GOARCH, GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	m.Load = loadAverage()
	return m
}

// loadAverage is /proc/loadavg's three averages, or "" where there is
// none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// pinning is how the servers and the generator share the cores.
type pinning struct {
	server []string // the command prefix that pins a server, or nothing
	note   string
}

// pin pins this process (the generator), every thread of it, to
// loadCPU, and returns the prefix that starts a server pinned to
// serverCPU. Without taskset, or without two cores, nothing is pinned
// and the note says so. It runs after the builds, which use every core.
func pin(enabled bool, serverCPU, loadCPU int) pinning {
	if !enabled {
		return pinning{note: "not pinned (-pin=false): servers and load generator share every core"}
	}
	n := runtime.NumCPU()
	if n < 2 || serverCPU >= n || loadCPU >= n || serverCPU == loadCPU {
		return pinning{note: fmt.Sprintf("not pinned: %d core(s) available to this process, cores %d and %d asked for; servers and load generator share the cores", n, serverCPU, loadCPU)}
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return pinning{note: "not pinned: taskset not found; servers and load generator share the cores"}
	}
	self := strconv.Itoa(os.Getpid())
	// -a sets every thread's affinity; threads started later inherit
	// it from the thread that starts them. Twice, for a thread started
	// while taskset walked the list.
	for range 2 {
		if out, err := exec.Command(taskset, "-a", "-p", "-c", strconv.Itoa(loadCPU), self).CombinedOutput(); err != nil {
			return pinning{note: fmt.Sprintf("not pinned: taskset failed: %v: %s", err, strings.TrimSpace(string(out)))}
		}
	}
	if bad := unpinnedThreads(strconv.Itoa(loadCPU)); bad != "" {
		return pinning{note: "not pinned: " + bad}
	}
	runtime.GOMAXPROCS(1)
	return pinning{
		server: []string{taskset, "-c", strconv.Itoa(serverCPU)},
		note:   fmt.Sprintf("servers pinned to core %d, load generator to core %d (taskset)", serverCPU, loadCPU),
	}
}

// unpinnedThreads checks that every thread of this process may run only
// on cpu, and describes the first that may not.
func unpinnedThreads(cpu string) string {
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil || len(tasks) == 0 {
		return "cannot list this process's threads"
	}
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread ended
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok && strings.TrimSpace(v) != cpu {
				return fmt.Sprintf("thread %s may run on cores %s", filepath.Base(filepath.Dir(t)), strings.TrimSpace(v))
			}
		}
	}
	return ""
}
