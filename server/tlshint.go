package server

import (
	"bytes"
	"log"
	"log/slog"
	"path/filepath"
	"sync"
	"time"
)

// tlsHintInterval is the least time between two trust hints in the log.
const tlsHintInterval = time.Minute

// CertificateFile is the absolute path of the certificate the HTTPS
// listener serves: --tls-cert, or the one generated into the data
// directory. Clients of the listener, amazon-chime-sdk-js's websocket
// first, must trust it. "" without an HTTPS listener.
func (s *Server) CertificateFile() string {
	if s.cfg.TLSListen == "" {
		return ""
	}
	path := s.cfg.TLSCert
	if path == "" {
		path = filepath.Join(s.cfg.DataDir, tlsCertFile)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path
}

// errorLog is the ErrorLog of the HTTP servers: net/http's own lines, at
// warn level, followed by a trust hint when one says that a TLS handshake
// failed the way it does when the client does not trust the certificate.
// Without it the only trace of an untrusted certificate is "http: TLS
// handshake error from …: remote error: tls: unknown certificate
// authority" (or a bare EOF from Node), which names neither the file nor
// the fix. The hint is rate-limited: a client retrying would repeat it.
// Serve makes one and shares it between the servers.
func (s *Server) errorLog() *log.Logger {
	return log.New(&tlsHintWriter{
		base:  slog.NewLogLogger(s.log.Handler(), slog.LevelWarn).Writer(),
		log:   s.log,
		cert:  s.CertificateFile(),
		own:   s.cfg.TLSCert != "",
		every: tlsHintInterval,
		now:   time.Now,
	}, "", 0)
}

type tlsHintWriter struct {
	base  interface{ Write([]byte) (int, error) }
	log   *slog.Logger
	cert  string
	own   bool // a --tls-cert of the operator's, not the generated one
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	last time.Time
}

// Handshake failures that mean the client refused the certificate: the
// alerts clients send for a certificate they do not trust (Go sends
// bad_certificate, OpenSSL 1.1 unknown_ca, browsers certificate_unknown);
// what Go reads when curl and Python on OpenSSL 3 send theirs in TLS 1.3
// (bad record MAC); and the EOF of Node, which hangs up without an alert.
var untrustedCauses = [][]byte{
	[]byte("remote error: tls: unknown certificate authority"),
	[]byte("remote error: tls: bad certificate"),
	[]byte("remote error: tls: certificate unknown"),
	[]byte("local error: tls: bad record MAC"),
	[]byte(": EOF"),
}

func (w *tlsHintWriter) Write(p []byte) (int, error) {
	n, err := w.base.Write(p)
	line := bytes.TrimSpace(p)
	if !bytes.HasPrefix(line, []byte("http: TLS handshake error from ")) {
		return n, err
	}
	for _, c := range untrustedCauses {
		if bytes.HasSuffix(line, c) {
			w.hint(string(line))
			break
		}
	}
	return n, err
}

func (w *tlsHintWriter) hint(line string) {
	w.mu.Lock()
	now := w.now()
	due := w.last.IsZero() || now.Sub(w.last) >= w.every
	if due {
		w.last = now
	}
	w.mu.Unlock()
	if !due {
		return
	}
	trust := "the client must trust it"
	if w.own {
		trust = "the client must trust the CA that issued it"
	}
	w.log.Warn("TLS handshake failed: the client may not trust the server's certificate, "+w.cert+"; "+trust+
		": in Node set NODE_EXTRA_CA_CERTS="+w.cert+", for the AWS CLI and boto3 AWS_CA_BUNDLE="+w.cert+
		", for curl --cacert "+w.cert+"; or serve a certificate your clients trust with --tls-cert and --tls-key"+
		" (this hint is logged at most once a minute)",
		"cert", w.cert, "error", line)
}
