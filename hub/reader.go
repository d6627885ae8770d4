package hub

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// maxMessage bounds a data message from a client. Clients send none (the
// messaging session is one-way); a bigger one closes the session with
// 1009.
const maxMessage = 4096

// readBufSize holds the longest control frame (14 bytes of masked header
// and 125 of payload) with room to spare.
const readBufSize = 512

var readBuffers = sync.Pool{New: func() any { return new([readBufSize]byte) }}

// closeError is a reason to close the session, with the close code the
// writer sends: the client's own close frame (echo), or a frame the
// server refuses.
type closeError struct {
	code int
	text string
	echo bool
}

func (e *closeError) Error() string { return e.text }

func protocolError(text string) error {
	return &closeError{code: websocket.CloseProtocolError, text: text}
}

// frameReader parses the frames a client sends (RFC 6455, section 5):
// masked, control frames final and at most 125 bytes, no extensions.
// Data frames are skipped without being kept.
type frameReader struct {
	// discard: the client broke the protocol; what follows is dropped
	// unparsed while the close frame goes out.
	discard bool
	// skip is what remains of the payload of a data frame being skipped.
	skip int64
	// message is the length of the data message so far; inMessage: a
	// fragmented data message awaits its continuation frames.
	message   int64
	inMessage bool
}

// partial reports whether a frame has begun but not ended.
func (r *frameReader) partial() bool { return r.skip > 0 }

// parse handles the frames at the start of b and returns the bytes it
// consumed; what remains is the beginning of a frame. control receives
// each control frame, its payload unmasked in place.
func (r *frameReader) parse(b []byte, control func(op byte, payload []byte) error) (int, error) {
	if r.discard {
		return len(b), nil
	}
	n := 0
	for {
		if r.skip > 0 {
			k := int(min(r.skip, int64(len(b)-n)))
			r.skip -= int64(k)
			n += k
			if r.skip > 0 {
				return n, nil
			}
		}
		rest := b[n:]
		if len(rest) < 2 {
			return n, nil
		}
		b0, b1 := rest[0], rest[1]
		if b0&0x70 != 0 {
			return n, protocolError("reserved bits set: no extension was negotiated")
		}
		if b1&0x80 == 0 {
			return n, protocolError("frames from a client must be masked")
		}
		op, fin := b0&0x0f, b0&finBit != 0
		hdr, length := 2, int64(b1&0x7f)
		switch length {
		case 126:
			hdr += 2
		case 127:
			hdr += 8
		}
		hdr += 4 // the masking key
		if len(rest) < hdr {
			return n, nil
		}
		switch length {
		case 126:
			length = int64(binary.BigEndian.Uint16(rest[2:]))
		case 127:
			u := binary.BigEndian.Uint64(rest[2:])
			if u > 1<<62 {
				return n, protocolError("invalid frame length")
			}
			length = int64(u)
		}
		switch op {
		case opClose, opPing, opPong:
			if !fin {
				return n, protocolError("fragmented control frame")
			}
			if length > maxControlPayload {
				return n, protocolError("control frame longer than 125 bytes")
			}
			if len(rest) < hdr+int(length) {
				return n, nil
			}
			payload := rest[hdr : hdr+int(length)]
			key := rest[hdr-4 : hdr]
			for i := range payload {
				payload[i] ^= key[i&3]
			}
			if err := control(op, payload); err != nil {
				return n, err
			}
			n += hdr + int(length)
		case opText, opBinary, opContinuation:
			if (op == opContinuation) != r.inMessage {
				return n, protocolError("unexpected continuation frame, or missing one")
			}
			r.message += length
			if r.message > maxMessage {
				return n, &closeError{code: websocket.CloseMessageTooBig, text: "message too big"}
			}
			r.inMessage = !fin
			if fin {
				r.message = 0
			}
			r.skip = length
			n += hdr
		default:
			return n, protocolError("unknown opcode")
		}
	}
}

// control handles a control frame from the client.
func (s *session) control(op byte, payload []byte) error {
	switch op {
	case opPing:
		s.sendPong(append([]byte(nil), payload...))
	case opPong:
		s.pongReceived(payload)
	case opClose:
		code, err := parseClose(payload)
		if err != nil {
			return err
		}
		s.closeReceived(code)
		// The client closes: answer with its code (RFC 6455, section
		// 5.5.1), then the writer closes the connection.
		return &closeError{code: code, echo: true}
	}
	return nil
}

// errCloseOneByte refuses a close frame whose body is one byte: the body
// starts with a two-byte code (RFC 6455, section 5.5.1).
var errCloseOneByte = protocolError("invalid close frame")

// parseClose returns the code of a client's close frame (closeNoStatus
// for an empty one), or the error to close the session with.
func parseClose(payload []byte) (int, error) {
	code := closeNoStatus
	if len(payload) == 1 {
		return 0, errCloseOneByte
	}
	if len(payload) >= 2 {
		code = int(binary.BigEndian.Uint16(payload))
		if !validCloseCode(code) {
			return 0, protocolError("invalid close code")
		}
		if !utf8.Valid(payload[2:]) {
			return 0, &closeError{code: websocket.CloseInvalidFramePayloadData, text: "invalid UTF-8 in close frame"}
		}
	}
	return code, nil
}

// validCloseCode reports whether a client may send code (RFC 6455,
// section 7.4, and the IANA registry).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	default:
		return code >= 3000 && code <= 4999
	}
}

// readLoop reads the client's frames until the connection ends. Clients
// send no data frames; reading is how pongs, pings and the client's
// close frame are seen. Between frames the goroutine waits for the
// socket to become readable without reading it (waitReadable), so it
// holds no read buffer and only a small stack; the buffer comes from a
// pool when there is something to read. It is the reader of sessions the
// poller cannot hold (poller_linux.go), and of every session once it
// ends, lingering for the client's close frame.
func (s *session) readLoop() {
	r := &s.fr
	for {
		if s.raw != nil {
			// No deadline while idle: the hub's ping schedule closes
			// clients that stop answering.
			s.setReadDeadline(time.Time{})
			if err := waitReadable(s.raw); err != nil {
				s.readerEnded(closeFor(err))
				return
			}
		}
		if err := s.readAvailable(r); err != nil {
			s.readerEnded(closeFor(err))
			return
		}
	}
}

// readAvailable reads and handles the frames that have arrived. It
// returns between frames once no more bytes are available (with a
// socket to wait on; otherwise it blocks in Read). Bytes of a frame that
// has begun must follow within PongTimeout.
func (s *session) readAvailable(r *frameReader) error {
	buf := readBuffers.Get().(*[readBufSize]byte)
	defer readBuffers.Put(buf)
	have, polling := 0, false
	for {
		var deadline time.Time // none
		switch {
		case have > 0 || r.partial() || (s.raw != nil && !polling):
			// Readable, or in the middle of a frame: the rest must follow.
			deadline = time.Now().Add(s.hub.cfg.PongTimeout)
		case polling:
			// Between frames: take only what has arrived. A read past
			// its deadline returns at once, after what crypto/tls has
			// already decrypted or buffered (a second record that came
			// in the same segment as the first, which the socket's
			// readiness no longer shows).
			deadline = time.Unix(1, 0)
		}
		s.setReadDeadline(deadline)
		n, err := s.conn.Read(buf[have:])
		if n > 0 {
			s.lastSeen.Store(time.Now().UnixNano())
			have += n
			used, perr := r.parse(buf[:have], s.control)
			var ce *closeError
			switch {
			case perr == nil:
			case errors.As(perr, &ce) && !ce.echo:
				// The client broke the protocol: the writer sends the
				// close frame, and the reader drops whatever else comes
				// until the client closes (or closeLinger passes), so
				// that closing does not reset the connection before the
				// client has read the close frame.
				s.close(ce.code, ce.text)
				r.discard, used = true, have
			default:
				return perr
			}
			have = copy(buf[:], buf[used:have])
		}
		if err != nil {
			if polling && have == 0 && !r.partial() && errors.Is(err, os.ErrDeadlineExceeded) {
				return nil
			}
			return err
		}
		polling = s.raw != nil
	}
}

// closeFor is the close code the writer answers a reader's end with.
func closeFor(err error) (int, string) {
	var ce *closeError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		return ce.code, ce.text
	case errors.As(err, &ne) && ne.Timeout():
		return CloseGoingAway, "incomplete frame"
	default: // the end of the stream, or the connection closed
		return websocket.CloseNormalClosure, ""
	}
}
