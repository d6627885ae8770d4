package hub

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// FuzzFrameReader feeds arbitrary bytes, cut into arbitrary chunks, to
// frameReader the way readAvailable does: it must never panic, never
// report more bytes consumed than it was given, never leave more than one
// frame's header and control payload unconsumed (what would stall the
// reader's 512-byte buffer), and, on every input it accepts, agree with
// gorilla/websocket's reader, which the session replaced: the same control
// frames in the same order, and the same end.
//
// data is the client's byte stream; chunks gives the sizes of the reads
// that deliver it (each byte one read of 1 to 256 bytes, cycling; none:
// reads as large as the buffer allows).
func FuzzFrameReader(f *testing.F) {
	for _, seed := range frameReaderSeeds() {
		f.Add(seed.data, seed.chunks)
	}
	f.Fuzz(func(t *testing.T, data, chunks []byte) {
		ours := readFramesOurs(t, data, chunks)
		theirs := readFramesGorilla(t, data)
		compareFrameReaders(t, data, ours, theirs)
	})
}

// TestFrameReaderSeeds runs the fuzz target's seeds, and checks that each
// seed ends as it was written to: a seed that no longer exercises what it
// was meant to is a seed lost.
func TestFrameReaderSeeds(t *testing.T) {
	for _, seed := range frameReaderSeeds() {
		t.Run(seed.name, func(t *testing.T) {
			ours := readFramesOurs(t, seed.data, seed.chunks)
			if got := ours.end(); got != seed.want {
				t.Errorf("ends with %s, want %s (controls %v)", got, seed.want, ours.controls)
			}
			compareFrameReaders(t, seed.data, ours, readFramesGorilla(t, seed.data))
		})
	}
}

type controlFrame struct {
	op      byte
	payload string
}

func (c controlFrame) String() string { return fmt.Sprintf("%#x %q", c.op, c.payload) }

// frameTrace is what a reader made of a byte stream.
type frameTrace struct {
	controls []controlFrame
	// closeCode: the stream ended with the client's close frame.
	closed    bool
	closeCode int
	// err: the reader refused the stream (protocol error, too big, bad
	// close frame).
	err error
	// partial: the stream ended inside a frame.
	partial bool
}

func (tr frameTrace) end() string {
	switch {
	case tr.err != nil:
		return "error"
	case tr.closed:
		return "close"
	case tr.partial:
		return "partial"
	default:
		return "boundary"
	}
}

// readFramesOurs runs frameReader over data as readAvailable does: a
// 512-byte buffer, reads appended to what is left unconsumed.
func readFramesOurs(t *testing.T, data, chunks []byte) frameTrace {
	t.Helper()
	var (
		tr  frameTrace
		r   frameReader
		buf [readBufSize]byte
	)
	control := func(op byte, payload []byte) error {
		if op == opClose {
			code, err := parseClose(payload)
			if err != nil {
				return err
			}
			tr.controls = append(tr.controls, controlFrame{op, string(payload)})
			tr.closed, tr.closeCode = true, code
			return &closeError{code: code, echo: true}
		}
		tr.controls = append(tr.controls, controlFrame{op, string(payload)})
		return nil
	}
	have, off := 0, 0
	for i := 0; off < len(data); i++ {
		n := len(buf) - have
		if len(chunks) > 0 {
			n = min(n, int(chunks[i%len(chunks)])+1)
		}
		n = min(n, len(data)-off)
		if n == 0 {
			t.Fatalf("stalled: the buffer is full with %d unconsumed bytes", have)
		}
		have += copy(buf[have:], data[off:off+n])
		off += n
		used, err := r.parse(buf[:have], control)
		if used < 0 || used > have {
			t.Fatalf("parse consumed %d bytes of the %d it was given", used, have)
		}
		if err != nil {
			var ce *closeError
			if !errors.As(err, &ce) {
				t.Fatalf("parse returned %v, not a *closeError", err)
			}
			if !ce.echo {
				tr.err = err
			}
			return tr
		}
		have = copy(buf[:], buf[used:have])
		// At most one incomplete frame: a masked header (14 bytes) and a
		// control payload (125).
		if have > 14+maxControlPayload {
			t.Fatalf("%d bytes left unconsumed", have)
		}
	}
	tr.partial = have > 0 || r.partial() || r.inMessage
	return tr
}

// readFramesGorilla reads data with a server-side gorilla/websocket Conn,
// its read limit the session's.
func readFramesGorilla(t *testing.T, data []byte) frameTrace {
	t.Helper()
	var tr frameTrace
	conn := &bytesConn{r: bytes.NewReader(data)}
	req := httptest.NewRequest(http.MethodGet, "/connect", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	c, err := up.Upgrade(&hijacker{conn: conn}, req, nil)
	if err != nil {
		t.Fatalf("gorilla upgrade: %v", err)
	}
	c.SetReadLimit(maxMessage)
	c.SetPingHandler(func(s string) error {
		tr.controls = append(tr.controls, controlFrame{opPing, s})
		return nil
	})
	c.SetPongHandler(func(s string) error {
		tr.controls = append(tr.controls, controlFrame{opPong, s})
		return nil
	})
	c.SetCloseHandler(func(code int, text string) error {
		payload := ""
		if code != closeNoStatus {
			payload = string(binary.BigEndian.AppendUint16(nil, uint16(code))) + text
		}
		tr.controls = append(tr.controls, controlFrame{opClose, payload})
		tr.closed, tr.closeCode = true, code
		return nil
	})
	for {
		_, r, err := c.NextReader()
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		}
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		switch {
		case tr.closed:
		case errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure:
			tr.partial = true // the end of the input, mid-frame or not
		default:
			tr.err = err
		}
		return tr
	}
}

// compareFrameReaders checks that gorilla agrees with an input ours
// accepted, and refuses one ours refused.
func compareFrameReaders(t *testing.T, data []byte, ours, theirs frameTrace) {
	t.Helper()
	if ours.closed && ours.closeCode == 1014 {
		// 1014 (Bad Gateway) is in the IANA registry RFC 6455 section 7.4.2
		// points to; gorilla refuses it.
		return
	}
	switch {
	case ours.err == nil && !ours.partial:
		// Accepted, to the end or to the client's close frame.
		if theirs.err != nil || ours.closed != theirs.closed || !slices.Equal(ours.controls, theirs.controls) {
			t.Fatalf("input %x: ours read controls %v (closed %v), gorilla %v (closed %v, error %v)",
				data, ours.controls, ours.closed, theirs.controls, theirs.closed, theirs.err)
		}
	case ours.err != nil:
		if theirs.closed && theirs.closeCode == closeNoStatus && errors.Is(ours.err, errCloseOneByte) {
			// A close frame with a 1-byte body: RFC 6455 section 5.5.1
			// requires a 2-byte code first; gorilla takes it as no code.
			return
		}
		if theirs.err == nil {
			t.Fatalf("input %x: ours refused it (%v), gorilla read controls %v (closed %v, partial %v)",
				data, ours.err, theirs.controls, theirs.closed, theirs.partial)
		}
		if !slices.Equal(ours.controls, theirs.controls) {
			t.Fatalf("input %x: before refusing it, ours read controls %v, gorilla %v", data, ours.controls, theirs.controls)
		}
	default:
		// The input ends inside a frame: gorilla may refuse that frame
		// from its first two bytes, before ours has its whole header; the
		// frames before it read the same.
		if !slices.Equal(ours.controls, theirs.controls) {
			t.Fatalf("input %x (ends mid-frame): ours read controls %v, gorilla %v", data, ours.controls, theirs.controls)
		}
	}
}

// bytesConn is a net.Conn that reads data and discards writes.
type bytesConn struct{ r *bytes.Reader }

func (c *bytesConn) Read(b []byte) (int, error)       { return c.r.Read(b) }
func (c *bytesConn) Write(b []byte) (int, error)      { return len(b), nil }
func (c *bytesConn) Close() error                     { return nil }
func (c *bytesConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *bytesConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *bytesConn) SetDeadline(time.Time) error      { return nil }
func (c *bytesConn) SetReadDeadline(time.Time) error  { return nil }
func (c *bytesConn) SetWriteDeadline(time.Time) error { return nil }

// hijacker is the http.ResponseWriter of an upgrade on conn.
type hijacker struct {
	conn   net.Conn
	header http.Header
}

func (h *hijacker) Header() http.Header {
	if h.header == nil {
		h.header = http.Header{}
	}
	return h.header
}
func (h *hijacker) Write(b []byte) (int, error) { return len(b), nil }
func (h *hijacker) WriteHeader(int)             {}
func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.conn, bufio.NewReadWriter(bufio.NewReader(h.conn), bufio.NewWriter(h.conn)), nil
}

// clientFrame builds a masked client frame.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= finBit
	}
	var out []byte
	switch n := len(payload); {
	case n < 126:
		out = []byte{b0, 0x80 | byte(n)}
	case n <= 0xffff:
		out = binary.BigEndian.AppendUint16([]byte{b0, 0x80 | 126}, uint16(n))
	default:
		out = binary.BigEndian.AppendUint64([]byte{b0, 0x80 | 127}, uint64(n))
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	out = append(out, key[:]...)
	for i, c := range payload {
		out = append(out, c^key[i&3])
	}
	return out
}

// longLength re-encodes the short length of a frame from clientFrame in
// the 64-bit form: not the shortest, which RFC 6455 asks of senders, but
// what readers accept.
func longLength(frame []byte) []byte {
	n := frame[1] &^ 0x80
	out := binary.BigEndian.AppendUint64([]byte{frame[0], 0x80 | 127}, uint64(n))
	return append(out, frame[2:]...)
}

func closePayload(code int, text string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), text...)
}

type frameSeed struct {
	name         string
	data, chunks []byte
	want         string // how ours ends: boundary, partial, close, error
}

// frameReaderSeeds are the committed start of the fuzz corpus (also in
// testdata/fuzz/FuzzFrameReader): what clients send, and each way of
// breaking the protocol the reader checks.
func frameReaderSeeds() []frameSeed {
	cat := func(frames ...[]byte) []byte { return bytes.Join(frames, nil) }
	big := bytes.Repeat([]byte("x"), 300)
	return []frameSeed{
		{"pong", clientFrame(true, opPong, []byte("12345678")), nil, "boundary"},
		{"ping then pong, byte by byte", cat(clientFrame(true, opPing, []byte("hi")), clientFrame(true, opPong, nil)), []byte{0}, "boundary"},
		{"close with code and text", clientFrame(true, opClose, closePayload(1000, "bye")), nil, "close"},
		{"close without code", clientFrame(true, opClose, nil), []byte{2, 5}, "close"},
		{"data message skipped, then pong", cat(clientFrame(true, opText, big), clientFrame(true, opPong, []byte("p"))), []byte{7, 200, 1}, "boundary"},
		{"fragmented message", cat(clientFrame(false, opBinary, big), clientFrame(true, opPing, nil), clientFrame(true, opContinuation, big)), []byte{63}, "boundary"},
		{"64-bit length", longLength(clientFrame(true, opText, []byte("0123456789"))), []byte{4, 9}, "boundary"},
		{"64-bit length, too big", clientFrame(true, opText, bytes.Repeat([]byte("y"), 70000))[:24], nil, "error"},
		{"max control payload", clientFrame(true, opPing, bytes.Repeat([]byte("z"), 125)), []byte{3}, "boundary"},
		{"ends mid-frame", clientFrame(true, opPong, []byte("abcdef"))[:7], nil, "partial"},
		{"ends mid-message", clientFrame(false, opText, []byte("abc")), nil, "partial"},
		{"unmasked", []byte{finBit | opPong, 0}, nil, "error"},
		{"reserved bits", []byte{finBit | 0x40 | opText, 0x80, 0, 0, 0, 0}, nil, "error"},
		{"unknown opcode", clientFrame(true, 0x3, nil), nil, "error"},
		{"fragmented control", clientFrame(false, opPing, nil), nil, "error"},
		{"control too long", clientFrame(true, opPing, bytes.Repeat([]byte("z"), 126)), nil, "error"},
		{"continuation first", clientFrame(true, opContinuation, []byte("a")), nil, "error"},
		{"message inside a message", cat(clientFrame(false, opText, []byte("a")), clientFrame(true, opText, []byte("b"))), nil, "error"},
		{"message too big", cat(clientFrame(false, opText, big), clientFrame(true, opContinuation, bytes.Repeat([]byte("w"), maxMessage))), []byte{40}, "error"},
		{"close code 1005", clientFrame(true, opClose, closePayload(1005, "")), nil, "error"},
		{"close with invalid UTF-8", clientFrame(true, opClose, closePayload(1000, "\xff")), nil, "error"},
		{"length beyond 2^62", []byte{finBit | opText, 0x80 | 127, 0x40, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, nil, "error"},
	}
}
