//go:build linux

package hub

import (
	"os"
	"sync"
	"syscall"
)

// poller waits, with one goroutine for the whole process, for the sockets
// of idle sessions to become readable, so that an idle session holds no
// goroutine at all: no stack, no g. A session is parked in it between
// reads (session.park); when its socket becomes readable, the poller
// starts a goroutine that reads what arrived (session.readPolled) and
// parks the session again.
//
// It is an epoll instance of its own. The runtime's network poller keeps
// the sockets too (a file may be in several epoll sets), and the reads go
// through it as ever, deadlines included; this one only says when to
// start reading. Registrations are one-shot: a readiness is reported
// once, until the session is armed again after its read. The standard
// library has no way to be told of readiness without a goroutine waiting
// for it, and the libraries that offer one take the socket over from the
// net package (and, for TLS, bring their own TLS), which the rest of the
// server relies on; an epoll set beside the runtime's is the small part
// of them that idle sessions need.
//
// The goroutine runs while sessions are parked and ends when the last one
// leaves, woken through a pipe. It never blocks in epoll_wait: the epoll
// set is itself a file the runtime's network poller waits on (an epoll
// descriptor is readable while it has events to report), and the
// goroutine asks epoll_wait only for what is already there. A blocking
// epoll_wait would hold the thread and its P while it waits, and the
// runtime takes a P back from a thread blocked in a system call only when
// its monitor next looks, up to 10 ms later: with one P (a server pinned
// to a core) every return of the poller to epoll_wait stalled the whole
// process. docs/performance.md, "The poller that stalled the process",
// has the measurement.
type poller struct {
	epfd int
	// ep is epfd as a file of the runtime's network poller.
	ep syscall.RawConn
	// wakeR and wakeW are a pipe: a byte written to wakeW wakes the
	// goroutine, to end when nothing is registered.
	wakeR, wakeW int

	mu      sync.Mutex
	running bool
	// byID are the sessions registered, by the id their epoll events
	// carry (never 0: that is the pipe's).
	byID   map[uint32]*session
	nextID uint32
}

const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

var (
	pollerOnce sync.Once
	thePoller  *poller
)

// sharedPoller returns the process's poller, nil if epoll is not
// available (sessions then keep a reading goroutine each).
func sharedPoller() *poller {
	pollerOnce.Do(func() {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		var fds [2]int
		if err := syscall.Pipe2(fds[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
			syscall.Close(epfd)
			return
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN} // id 0
		if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, fds[0], &ev); err != nil {
			syscall.Close(epfd)
			syscall.Close(fds[0])
			syscall.Close(fds[1])
			return
		}
		// A non-blocking descriptor is one os.NewFile registers with
		// the runtime's network poller. The file is never closed: the
		// poller lives as long as the process.
		var ep syscall.RawConn
		err = syscall.SetNonblock(epfd, true)
		if err == nil {
			f := os.NewFile(uintptr(epfd), "epoll")
			if ep, err = f.SyscallConn(); err != nil {
				f.Close() // closes epfd
			}
		} else {
			syscall.Close(epfd)
		}
		if err != nil {
			syscall.Close(fds[0])
			syscall.Close(fds[1])
			return
		}
		thePoller = &poller{epfd: epfd, ep: ep, wakeR: fds[0], wakeW: fds[1], byID: map[uint32]*session{}}
	})
	return thePoller
}

// add registers s's socket, armed; false if it could not be (the
// connection closed, or a socket epoll refuses).
func (p *poller) add(s *session) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		p.nextID++
		if _, used := p.byID[p.nextID]; !used && p.nextID != 0 {
			break
		}
	}
	id := p.nextID
	var ctlErr error
	err := s.raw.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{Events: pollEvents, Fd: int32(id)}
		ctlErr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if err != nil || ctlErr != nil {
		return false
	}
	p.byID[id] = s
	s.pollID = id
	if !p.running {
		p.running = true
		go p.run()
	}
	return true
}

// arm asks for the next readiness of s's socket; false if the connection
// closed.
func (p *poller) arm(s *session) bool {
	var ctlErr error
	err := s.raw.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{Events: pollEvents, Fd: int32(s.pollID)}
		ctlErr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, int(fd), &ev)
	})
	return err == nil && ctlErr == nil
}

// remove unregisters s; removing it twice is harmless. Closing a socket
// takes it out of the epoll set by itself; removing it first also
// forgets the session.
func (p *poller) remove(s *session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.pollID == 0 || p.byID[s.pollID] != s {
		return
	}
	delete(p.byID, s.pollID)
	s.pollID = 0
	_ = s.raw.Control(func(fd uintptr) {
		_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
	})
	if len(p.byID) == 0 && p.running {
		_, _ = syscall.Write(p.wakeW, []byte{0})
	}
}

// run waits for readiness and hands each readable session to a goroutine
// of its own; it returns once nothing is registered.
func (p *poller) run() {
	events := make([]syscall.EpollEvent, 128)
	var ready []*session
	for {
		n := p.wait(events)
		ready = ready[:0]
		p.mu.Lock()
		for i := range n {
			id := uint32(events[i].Fd)
			if id == 0 {
				var b [64]byte
				for {
					if k, _ := syscall.Read(p.wakeR, b[:]); k <= 0 {
						break
					}
				}
				continue
			}
			if s := p.byID[id]; s != nil {
				ready = append(ready, s)
			}
		}
		if len(p.byID) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		for i, s := range ready {
			s.pollReady()
			ready[i] = nil
		}
	}
}

// wait fills events with what the epoll set has to report, waiting in
// the runtime's network poller (with no thread) while it has nothing.
func (p *poller) wait(events []syscall.EpollEvent) int {
	for {
		var n int
		var werr error
		err := p.ep.Read(func(fd uintptr) bool {
			n, werr = syscall.EpollWait(int(fd), events, 0)
			return werr != nil || n > 0 // nothing pending: wait for some
		})
		if err != nil {
			// The runtime could not wait on the descriptor (it is
			// not expected to refuse an epoll set): wait in the
			// system call instead.
			n, werr = syscall.EpollWait(p.epfd, events, -1)
		}
		// EINTR is the only error expected of a valid descriptor and
		// buffer: try again.
		if werr == nil && n > 0 {
			return n
		}
	}
}
