package main

import (
	"errors"

	"github.com/carillonhq/carillon/hub"
	"github.com/carillonhq/carillon/server"
)

// limitFlags defines the flags of the listeners' timeouts and limits on
// fs (docs/security.md); the function it returns sets them in a config
// once fs is parsed.
func limitFlags(fs flagSet) (func(*server.Config) error, error) {
	readTimeout, err := fs.duration("read-timeout", server.DefaultReadTimeout, "longest time to read a request, body included")
	if err != nil {
		return nil, err
	}
	writeTimeout, err := fs.duration("write-timeout", server.DefaultWriteTimeout, "longest time from the end of a request's headers to the end of its response")
	if err != nil {
		return nil, err
	}
	idleTimeout, err := fs.duration("idle-timeout", server.DefaultIdleTimeout, "keep-alive connections idle this long are closed")
	if err != nil {
		return nil, err
	}
	maxConns, err := fs.int("max-connections", 0, "most connections open at once on the API listeners, messaging sessions included; idle ones make room for new ones (default: the open-files limit less an eighth, at least 64)")
	if err != nil {
		return nil, err
	}
	maxSessions, err := fs.int("max-sessions", 0, "most messaging sessions open at once; more are closed with 1013 (default: three quarters of --max-connections)")
	if err != nil {
		return nil, err
	}
	perUser, err := fs.int("max-sessions-per-user", hub.DefaultMaxSessionsPerUser, "most messaging sessions of one user; more are closed with 1008 (AWS's quota of connections per user)")
	if err != nil {
		return nil, err
	}
	metricsListen := fs.string("metrics-listen", "", "address that serves /metrics and /healthz on its own; when set, /metrics leaves the API listeners (default: /metrics on the API listeners)")
	return func(c *server.Config) error {
		switch {
		case *readTimeout <= 0 || *writeTimeout <= 0 || *idleTimeout <= 0:
			return errors.New("--read-timeout, --write-timeout and --idle-timeout must be positive")
		case *maxConns < 0 || *maxSessions < 0 || *perUser < 1:
			return errors.New("--max-connections and --max-sessions may not be negative, --max-sessions-per-user must be positive")
		}
		c.ReadTimeout, c.WriteTimeout, c.IdleTimeout = *readTimeout, *writeTimeout, *idleTimeout
		c.MaxConnections = *maxConns
		c.Hub.MaxSessions, c.Hub.MaxSessionsPerUser = *maxSessions, *perUser
		c.MetricsListen = *metricsListen
		return nil
	}, nil
}
