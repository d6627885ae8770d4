package server

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// listenDebug opens the profiling listener of Config.DebugListen. It
// serves net/http/pprof only, on a mux of its own: the profiles are
// never reachable through the API's listeners.
func (s *Server) listenDebug() error {
	ln, err := net.Listen("tcp", s.cfg.DebugListen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.DebugListen, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// No write timeout: a CPU profile or a trace answers after the
	// seconds it was asked for.
	s.addListener(ln, &s.debug, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second})
	return nil
}

// DebugAddr returns the address of the profiling listener, "" if none.
func (s *Server) DebugAddr() string { return s.addr(s.debug) }
