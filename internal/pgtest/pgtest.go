// Package pgtest starts a throwaway PostgreSQL server for tests: one server
// per test binary, a fresh database per test.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestX(t *testing.T) {
//		dsn := pgtest.Database(t) // a new, empty database, dropped when t ends
//		…
//	}
//
// The server is Debian's postgresql-15 (or the binaries in
// $CARILLON_PG_BINDIR): initdb into a temporary directory, then the
// postgres binary as a child process, listening on 127.0.0.1 at a free port
// and on a unix socket inside the directory, with fsync off (tests never
// crash the database itself). It starts on the first call to Database and
// stops when Main returns. initdb and postgres refuse to run as root, so
// as root they run as the postgres user, in a directory that user can
// reach.
//
// Without TestMain the server still dies with the test binary (it gets
// SIGQUIT when its parent exits); the directory it leaves behind is
// removed by the next test binary that starts a server.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultBinDir is where Debian installs PostgreSQL 15's server binaries.
const DefaultBinDir = "/usr/lib/postgresql/15/bin"

// dirPrefix names the temporary directories of servers, so that a later
// start can find and remove those whose process is gone.
const dirPrefix = "carillon-pgtest-"

// Server is a running PostgreSQL server.
type Server struct {
	dir  string // the temporary directory: data/, the socket, pid
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when the postgres process has exited
	logs *syncBuffer

	n atomic.Int64 // databases created, for their names

	templatesMu sync.Mutex
	templates   map[string]error // made, or failed to be made
}

var (
	shared    *Server
	sharedErr error
	sharedMu  sync.Mutex
)

// Main runs the tests of m and stops the shared server, if a test started
// one. Call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Stop()
		shared = nil
	}
	return code
}

// Shared returns the test binary's server, starting it on first use.
func Shared() (*Server, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = Start(context.Background())
	}
	return shared, sharedErr
}

// Database creates a new, empty database on the shared server and returns
// its connection string; the database is dropped when t ends. The test
// fails if no server can be started: a test that asks for PostgreSQL
// needs it.
func Database(t testing.TB) string {
	t.Helper()
	s, err := Shared()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	dsn, drop, err := s.CreateDatabase(context.Background())
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return dsn
}

// DatabaseFrom is Database, with the new database a copy of a template
// that init fills the first time the shared server is asked for template
// (to apply a schema's migrations once rather than in every test).
func DatabaseFrom(t testing.TB, template string, init func(dsn string) error) string {
	t.Helper()
	s, err := Shared()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	dsn, drop, err := s.CreateDatabaseFrom(context.Background(), template, init)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return dsn
}

// BinDir is the directory of initdb and postgres: $CARILLON_PG_BINDIR, or
// DefaultBinDir.
func BinDir() string {
	if d := os.Getenv("CARILLON_PG_BINDIR"); d != "" {
		return d
	}
	return DefaultBinDir
}

// Start starts a new server in a temporary directory.
func Start(ctx context.Context) (*Server, error) {
	bin := BinDir()
	if _, err := os.Stat(filepath.Join(bin, "postgres")); err != nil {
		return nil, fmt.Errorf("no PostgreSQL server binaries in %s (install postgresql-15, or set CARILLON_PG_BINDIR): %w", bin, err)
	}
	removeStale()
	var cred *syscall.Credential
	var uid, gid int = -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, PostgreSQL needs the postgres user: %w", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, done: make(chan struct{}), logs: &syncBuffer{}}
	if err := s.start(ctx, bin, cred, uid, gid); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context, bin string, cred *syscall.Credential, uid, gid int) error {
	// The postgres user must be able to reach the directory (0711: through
	// it, without listing it), and everything on the way there.
	if err := os.Chmod(s.dir, 0o711); err != nil {
		return err
	}
	if cred != nil {
		if err := reachable(s.dir); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(s.dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	data := filepath.Join(s.dir, "data")
	for _, d := range []string{data, s.socketDir()} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
		if cred != nil {
			if err := os.Chown(d, uid, gid); err != nil {
				return err
			}
		}
	}
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = s.dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		err = s.run(bin, data, port, cred)
		if err == nil {
			return nil
		}
		// Another process may have taken the port between freePort and
		// the server's bind: try another.
		if attempt < 3 && strings.Contains(s.logs.String(), "could not bind") {
			continue
		}
		return err
	}
}

// run starts postgres on port and waits until it accepts connections.
func (s *Server) run(bin, data string, port int, cred *syscall.Credential) error {
	s.port = port
	s.logs.Reset()
	s.done = make(chan struct{})
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories="+s.socketDir(),
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=600",
		"-c", "shared_buffers=64MB",
		// Deadlocks between test transactions are found in 100ms rather
		// than a second.
		"-c", "deadlock_timeout=100ms",
		"-c", "log_min_messages=warning",
	)
	cmd.Dir = s.dir
	cmd.Stdout = s.logs
	cmd.Stderr = s.logs
	// SIGQUIT (immediate shutdown) when the test binary dies without
	// stopping the server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	s.cmd = cmd
	done := s.done
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-done:
			return fmt.Errorf("postgres exited at start:\n%s", s.logs.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		if time.Now().After(deadline) {
			s.stopProcess()
			return fmt.Errorf("postgres did not accept connections within a minute: %v\n%s", err, s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) socketDir() string { return filepath.Join(s.dir, "sock") }

// Port is the TCP port the server listens on, at 127.0.0.1.
func (s *Server) Port() int { return s.port }

// DSN returns the connection string of database db over TCP.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// CreateDatabase creates a new, empty database and returns its connection
// string, and a function that drops it (closing its connections first).
func (s *Server) CreateDatabase(ctx context.Context) (dsn string, drop func() error, err error) {
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), s.n.Add(1))
	if err := s.admin(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	return s.DSN(name), s.dropper(name), nil
}

// CreateDatabaseFrom creates a database as a copy of the template called
// name, which init fills the first time (init must close its connections
// to it: a template being copied must have none).
func (s *Server) CreateDatabaseFrom(ctx context.Context, name string, init func(dsn string) error) (dsn string, drop func() error, err error) {
	tmpl := "template_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.ToLower(name))
	s.templatesMu.Lock()
	err, made := s.templates[tmpl]
	if !made {
		err = s.admin(ctx, "CREATE DATABASE "+tmpl+" TEMPLATE template0")
		if err == nil {
			err = init(s.DSN(tmpl))
		}
		if s.templates == nil {
			s.templates = map[string]error{}
		}
		s.templates[tmpl] = err
	}
	s.templatesMu.Unlock()
	if err != nil {
		return "", nil, fmt.Errorf("template %s: %w", name, err)
	}
	db := fmt.Sprintf("test_%d_%d", os.Getpid(), s.n.Add(1))
	if err := s.admin(ctx, "CREATE DATABASE "+db+" TEMPLATE "+tmpl); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	return s.DSN(db), s.dropper(db), nil
}

func (s *Server) dropper(name string) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
}

// admin runs one statement on the postgres database.
func (s *Server) admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// Logs returns what the server has written to its log.
func (s *Server) Logs() string { return s.logs.String() }

// Stop shuts the server down (fast: its sessions are ended) and removes its
// directory.
func (s *Server) Stop() {
	s.stopProcess()
	_ = os.RemoveAll(s.dir)
}

func (s *Server) stopProcess() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// reachable checks that other users may traverse every directory from the
// root to dir, as the postgres user must.
func reachable(dir string) error {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the postgres user cannot reach %s: %s is mode %v (set TMPDIR to a directory others may traverse, or chmod o+x it)", dir, d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// removeStale removes the directories of servers whose test binary is
// gone (it died without stopping its server, which died with it).
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		if fi, err := os.Stat(d); err != nil || time.Since(fi.ModTime()) < time.Minute {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Reset()
}
