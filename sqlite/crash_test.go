package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
)

// crashChildEnv, when set, makes TestGroupCommitCrash the child process:
// its value is "path cycle".
const crashChildEnv = "CARILLON_SQLITE_CRASH_CHILD"

const crashChannel = testApp + "/channel/crash"

// TestGroupCommitCrash kills, with SIGKILL at a random moment, a child
// process writing through group commit from many goroutines, several times
// over on the same database. Every write the child reported acknowledged
// (it prints a line once Update returned nil) must be there exactly once
// afterwards, every write whose Update failed must be absent, and the
// database must open and pass SQLite's integrity check each time.
func TestGroupCommitCrash(t *testing.T) {
	if arg := os.Getenv(crashChildEnv); arg != "" {
		crashChild(arg)
		return
	}
	path := tempPath(t)
	db := openTest(t, path, carillon.SystemClock{})
	if err := db.Update(t.Context(), func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp}); err != nil {
			return err
		}
		return tx.CreateChannel(&carillon.Channel{ARN: crashChannel, AppInstanceARN: testApp, Mode: "UNRESTRICTED", Privacy: "PUBLIC"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	acked := map[string]int64{} // id -> the Seq of its event
	var failed []string
	const cycles = 5
	for cycle := range cycles {
		a, f := crashCycle(t, path, cycle)
		for id, seq := range a {
			acked[id] = seq
		}
		failed = append(failed, f...)
		checkCrashed(t, path, acked, failed)
		if t.Failed() {
			t.Fatalf("after cycle %d", cycle)
		}
	}
	t.Logf("%d writes acknowledged, %d failed, over %d kills", len(acked), len(failed), cycles)
	if len(acked) == 0 {
		t.Error("the child acknowledged no write")
	}
}

// crashCycle runs the child until it has acknowledged some writes and a
// random moment more, kills it, and returns what it acknowledged and the
// writes it reported failed.
func crashCycle(t *testing.T, path string, cycle int) (acked map[string]int64, failed []string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestGroupCommitCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", crashChildEnv, path, cycle))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	acked = map[string]int64{}
	record := func(line string) {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == "ack":
			seq, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				t.Errorf("child: %q", line)
			}
			acked[f[1]] = seq
		case len(f) == 2 && f[0] == "fail":
			failed = append(failed, f[1])
		}
	}
	// Wait for the first acknowledgement, then kill at a random moment
	// 100 to 600ms later.
	first := time.After(60 * time.Second)
	for len(acked) == 0 {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("cycle %d: the child ended before acknowledging anything", cycle)
			}
			record(line)
		case <-first:
			cmd.Process.Kill()
			t.Fatalf("cycle %d: no acknowledgement in 60s", cycle)
		}
	}
	kill := time.After(time.Duration(100+rand.IntN(500)) * time.Millisecond)
	for done := false; !done; {
		select {
		case line := <-lines:
			record(line)
		case <-kill:
			done = true
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// What the child wrote to the pipe before it died is still read.
	for line := range lines {
		record(line)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("cycle %d: the child ended with %v, not killed", cycle, err)
	}
	return acked, failed
}

// checkCrashed opens the database the child was killed writing and checks
// it.
func checkCrashed(t *testing.T, path string, acked map[string]int64, failed []string) {
	db, err := Open(t.Context(), path, carillon.SystemClock{})
	if err != nil {
		t.Fatalf("Open after a kill: %v", err)
	}
	defer db.Close()
	var check string
	if err := db.r.QueryRowContext(t.Context(), `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
	err = db.View(t.Context(), func(tx carillon.Tx) error {
		evs, err := tx.Events(0, 0)
		if err != nil {
			return err
		}
		events := map[string][]int64{}
		for _, e := range evs {
			events[e.Member] = append(events[e.Member], e.Seq)
		}
		for id, seq := range acked {
			if got := events[id]; len(got) != 1 || got[0] != seq {
				t.Errorf("acknowledged %s (event %d): events %v", id, seq, got)
			}
			if _, err := tx.GetMessage(crashChannel, id); err != nil {
				t.Errorf("acknowledged %s: message: %v", id, err)
			}
			if _, found, err := tx.Idempotent("crash", id); !found || err != nil {
				t.Errorf("acknowledged %s: idempotency record: %v, %v", id, found, err)
			}
		}
		for _, id := range failed {
			if got := events[id]; len(got) != 0 {
				t.Errorf("failed %s: events %v", id, got)
			}
			if _, err := tx.GetMessage(crashChannel, id); !errors.Is(err, carillon.ErrNotFound) {
				t.Errorf("failed %s: message: %v", id, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// crashChild writes from 16 goroutines until it is killed: each write is
// a message, the channel's update, an event and an idempotency record, in
// one Update; one in five then fails. It prints "ack ID SEQ" once an
// Update returned nil, "fail ID" once one returned its function's error.
func crashChild(arg string) {
	path, cycle, _ := strings.Cut(arg, " ")
	db, err := Open(context.Background(), path, carillon.SystemClock{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	// Should the parent die without killing it.
	time.AfterFunc(2*time.Minute, func() { os.Exit(3) })
	errFail := errors.New("fails on purpose")
	var mu sync.Mutex // one line per write(2)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("c%s-g%02d-%06d", cycle, g, i)
				fail := i%5 == 4
				ev := &carillon.Event{Type: "CRASH", Channel: crashChannel, Member: id}
				err := db.Update(context.Background(), func(tx carillon.Tx) error {
					if err := crashWrite(tx, id, ev); err != nil {
						return err
					}
					if fail {
						return errFail
					}
					return nil
				})
				mu.Lock()
				switch {
				case err == nil:
					fmt.Fprintf(os.Stdout, "ack %s %d\n", id, ev.Seq)
				case errors.Is(err, errFail):
					fmt.Fprintf(os.Stdout, "fail %s\n", id)
				default:
					fmt.Fprintln(os.Stderr, "crash child:", err)
					os.Exit(2)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// crashWrite is what one SendChannelMessage writes.
func crashWrite(tx carillon.Tx, id string, ev *carillon.Event) error {
	ch, err := tx.GetChannel(crashChannel)
	if err != nil {
		return err
	}
	m := &carillon.Message{ChannelARN: crashChannel, ID: id, Sender: "arn:sender", Content: "crash " + id,
		Type: "STANDARD", Persistence: "PERSISTENT", Status: "SENT", Created: tx.Now(), Updated: tx.Now()}
	if err := tx.CreateMessage(m); err != nil {
		return err
	}
	ch.LastMessageAt = tx.Now()
	if err := tx.UpdateChannel(ch); err != nil {
		return err
	}
	if err := tx.AppendEvent(ev); err != nil {
		return err
	}
	return tx.PutIdempotent("crash", id, id)
}
