package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// The publishers' client, written by hand rather than with net/http's
// client and the SDK's SigV4 signer: the load generator has one core,
// and with those two it spent more CPU per request than the bare
// handler's whole process did, so the "ceiling" measured the generator.
// Here a request is formatted into one buffer, signed with a cached
// signing key and reused hash states, written with one call and its
// answer read on the same goroutine. The signature is the SDK signer's
// to the byte (client_test.go compares them) and the servers verify it:
// a wrong one would fail every publish.

// rawClient sends HTTP/1.1 requests over keep-alive connections to one
// address, one request at a time per connection.
type rawClient struct {
	addr string
	tls  *tls.Config // nil: plain HTTP

	mu   sync.Mutex
	idle []*rawConn
}

type rawConn struct {
	c  net.Conn
	br *bufio.Reader
}

func newRawClient(addr string, tlsConfig *tls.Config) *rawClient {
	if tlsConfig != nil {
		tlsConfig = tlsConfig.Clone()
		tlsConfig.NextProtos = []string{"http/1.1"}
	}
	return &rawClient{addr: addr, tls: tlsConfig}
}

func (rc *rawClient) get() (*rawConn, error) {
	rc.mu.Lock()
	if n := len(rc.idle); n > 0 {
		c := rc.idle[n-1]
		rc.idle = rc.idle[:n-1]
		rc.mu.Unlock()
		return c, nil
	}
	rc.mu.Unlock()
	c, err := net.DialTimeout("tcp", rc.addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	if rc.tls != nil {
		tc := tls.Client(c, rc.tls)
		_ = tc.SetDeadline(time.Now().Add(30 * time.Second))
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, err
		}
		c = tc
	}
	return &rawConn{c: c, br: bufio.NewReaderSize(c, 4096)}, nil
}

func (rc *rawClient) put(c *rawConn) {
	rc.mu.Lock()
	rc.idle = append(rc.idle, c)
	rc.mu.Unlock()
}

// close closes the idle connections.
func (rc *rawClient) close() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, c := range rc.idle {
		c.c.Close()
	}
	rc.idle = nil
}

// do writes req, a complete HTTP/1.1 request, and reads the answer's
// status and body (into body[:0]). A request is never sent twice: a
// failure is the caller's to count.
func (rc *rawClient) do(ctx context.Context, req, body []byte) (status int, _ []byte, err error) {
	c, err := rc.get()
	if err != nil {
		return 0, body, err
	}
	_ = c.c.SetDeadline(time.Now().Add(time.Minute))
	stop := context.AfterFunc(ctx, func() { _ = c.c.SetDeadline(time.Now()) })
	defer stop()
	if _, err := c.c.Write(req); err != nil {
		c.c.Close()
		return 0, body, err
	}
	status, body, keep, err := readResponse(c.br, body[:0])
	if err != nil || !keep {
		c.c.Close()
	} else {
		rc.put(c)
	}
	return status, body, err
}

// readResponse reads an HTTP/1.1 response with a Content-Length or a
// chunked body.
func readResponse(br *bufio.Reader, body []byte) (status int, _ []byte, keep bool, err error) {
	line, err := readLine(br)
	if err != nil {
		return 0, body, false, err
	}
	// "HTTP/1.1 201 Created"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, body, false, fmt.Errorf("malformed status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, body, false, fmt.Errorf("malformed status line %q", line)
	}
	length, chunked := -1, false
	keep = true
	for {
		line, err := readLine(br)
		if err != nil {
			return status, body, false, err
		}
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return status, body, false, fmt.Errorf("malformed header %q", line)
		}
		v = bytes.TrimSpace(v)
		switch {
		case asciiEqualFold(k, "Content-Length"):
			if length, err = strconv.Atoi(string(v)); err != nil || length < 0 {
				return status, body, false, fmt.Errorf("malformed Content-Length %q", v)
			}
		case asciiEqualFold(k, "Transfer-Encoding"):
			chunked = asciiEqualFold(v, "chunked")
		case asciiEqualFold(k, "Connection"):
			keep = !asciiEqualFold(v, "close")
		}
	}
	switch {
	case chunked:
		for {
			line, err := readLine(br)
			if err != nil {
				return status, body, false, err
			}
			if i := bytes.IndexByte(line, ';'); i >= 0 {
				line = line[:i]
			}
			n, err := strconv.ParseUint(string(bytes.TrimSpace(line)), 16, 31)
			if err != nil {
				return status, body, false, fmt.Errorf("malformed chunk size %q", line)
			}
			if n == 0 {
				for { // trailers, up to the blank line
					l, err := readLine(br)
					if err != nil {
						return status, body, false, err
					}
					if len(l) == 0 {
						return status, body, keep, nil
					}
				}
			}
			if body, err = readN(br, body, int(n)); err != nil {
				return status, body, false, err
			}
			if l, err := readLine(br); err != nil || len(l) != 0 {
				return status, body, false, errors.New("malformed chunk end")
			}
		}
	case length >= 0:
		body, err = readN(br, body, length)
		return status, body, keep && err == nil, err
	default:
		// No length: the body ends with the connection.
		rest, err := io.ReadAll(br)
		return status, append(body, rest...), false, err
	}
}

func readN(br *bufio.Reader, dst []byte, n int) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	_, err := io.ReadFull(br, dst[start:])
	return dst, err
}

// readLine reads a line without its CRLF. The slice is valid until the
// next read.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
	return line, nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// sigv4 signs the publishers' requests: POST with a JSON body, signed
// headers content-length, content-type, host, x-amz-chime-bearer and
// x-amz-date, as the SDK's signer signs them.
type sigv4 struct {
	accessKey, secret, region, service string

	mu      sync.Mutex
	day     string // the date the key was derived for
	key     []byte
	hasher  hash.Hash
	scratch []byte
}

const amzDateFormat = "20060102T150405Z"

// authorization returns the X-Amz-Date and Authorization header values
// for a request. rawPath is the path as sent (already escaped once).
func (s *sigv4) authorization(now time.Time, host, rawPath, bearer string, body []byte) (amzDate, auth string) {
	now = now.UTC()
	amzDate = now.Format(amzDateFormat)
	day := amzDate[:8]
	bodySum := sha256.Sum256(body)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.day != day {
		k := hmacSum([]byte("AWS4"+s.secret), day)
		k = hmacSum(k, s.region)
		k = hmacSum(k, s.service)
		s.key = hmacSum(k, "aws4_request")
		s.day = day
		s.hasher = hmac.New(sha256.New, s.key)
	}
	scope := day + "/" + s.region + "/" + s.service + "/aws4_request"
	const signed = "content-length;content-type;host;x-amz-chime-bearer;x-amz-date"

	cr := s.scratch[:0]
	cr = append(cr, "POST\n"...)
	// Every service but S3 signs the path escaped a second time.
	cr = appendEscaped(cr, rawPath)
	cr = append(cr, "\n\ncontent-length:"...)
	cr = strconv.AppendInt(cr, int64(len(body)), 10)
	cr = append(cr, "\ncontent-type:application/json\nhost:"...)
	cr = append(cr, host...)
	cr = append(cr, "\nx-amz-chime-bearer:"...)
	cr = append(cr, bearer...)
	cr = append(cr, "\nx-amz-date:"...)
	cr = append(cr, amzDate...)
	cr = append(cr, "\n\n"+signed+"\n"...)
	cr = hex.AppendEncode(cr, bodySum[:])
	crSum := sha256.Sum256(cr)

	sts := cr[:0]
	sts = append(sts, "AWS4-HMAC-SHA256\n"...)
	sts = append(sts, amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, scope...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, crSum[:])
	s.hasher.Reset()
	s.hasher.Write(sts)
	var sig [sha256.Size]byte
	s.hasher.Sum(sig[:0])
	s.scratch = sts[:0]

	return amzDate, "AWS4-HMAC-SHA256 Credential=" + s.accessKey + "/" + scope + ", SignedHeaders=" + signed + ", Signature=" + hex.EncodeToString(sig[:])
}

func hmacSum(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// appendEscaped URI-encodes p as SigV4's canonical URI does: every byte
// but the unreserved ones and '/'.
func appendEscaped(dst []byte, p string) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return dst
}
