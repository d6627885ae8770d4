package hub

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// readFrames runs frameReader over data as readAvailable does, the bytes
// arriving in pieces of the given sizes (the rest at once): what a parse
// leaves is kept and the next piece appended. It returns each control
// frame seen, and the error that ended parsing ("" if none).
func readFrames(t *testing.T, data []byte, pieces []int) (frames []string, end string) {
	var r frameReader
	var buf []byte
	control := func(op byte, payload []byte) error {
		if len(payload) > maxControlPayload {
			t.Fatalf("control frame of %d bytes", len(payload))
		}
		frames = append(frames, fmt.Sprintf("%d:%x", op, payload))
		return nil
	}
	feed := func(b []byte) bool {
		buf = append(buf, b...)
		n, err := r.parse(buf, control)
		if n < 0 || n > len(buf) {
			t.Fatalf("parse consumed %d of %d bytes", n, len(buf))
		}
		if err != nil {
			var ce *closeError
			if !errors.As(err, &ce) {
				t.Fatalf("parse: %v is not a closeError", err)
			}
			end = fmt.Sprintf("%d %s", ce.code, ce.text)
			return false
		}
		buf = buf[n:]
		return true
	}
	for _, size := range pieces {
		if len(data) == 0 {
			break
		}
		size = min(size, len(data))
		if !feed(data[:size]) {
			return frames, end
		}
		data = data[size:]
	}
	feed(data)
	return frames, end
}

// FuzzFrameReader feeds the session's frame parser what a client may
// send: it must neither panic nor consume bytes it was not given, and
// the frames it sees and the error it stops on must not depend on how
// the bytes were split across reads.
func FuzzFrameReader(f *testing.F) {
	mask := []byte{1, 2, 3, 4}
	masked := func(b0 byte, payload []byte) []byte {
		out := []byte{b0, 0x80 | byte(len(payload))}
		out = append(out, mask...)
		for i, c := range payload {
			out = append(out, c^mask[i&3])
		}
		return out
	}
	f.Add(masked(finBit|opPing, []byte("hi")), []byte{1})
	f.Add(masked(finBit|opPong, nil), []byte{3, 1})
	f.Add(masked(finBit|opClose, []byte{0x03, 0xe8, 'b', 'y', 'e'}), []byte{2, 2, 2})
	f.Add(masked(finBit|opClose, []byte{0x03}), []byte{})
	f.Add(append(masked(opText, []byte("abc")), masked(finBit|opContinuation, []byte("def"))...), []byte{4, 5})
	f.Add(append([]byte{finBit | opBinary, 0x80 | 126, 0x10, 0x00}, mask...), []byte{1})
	f.Add(append([]byte{finBit | opBinary, 0x80 | 127, 0xff, 0, 0, 0, 0, 0, 0, 0}, mask...), []byte{9})
	f.Add([]byte{finBit | opText, 0x05, 'h', 'e', 'l', 'l', 'o'}, []byte{})
	f.Fuzz(func(t *testing.T, data, split []byte) {
		pieces := make([]int, len(split))
		for i, s := range split {
			pieces[i] = 1 + int(s)%16
		}
		wholeFrames, wholeEnd := readFrames(t, bytes.Clone(data), nil)
		splitFrames, splitEnd := readFrames(t, bytes.Clone(data), pieces)
		if wholeEnd != splitEnd {
			t.Fatalf("at once: %q; in pieces %v: %q", wholeEnd, pieces, splitEnd)
		}
		if fmt.Sprint(wholeFrames) != fmt.Sprint(splitFrames) {
			t.Fatalf("at once: %v; in pieces %v: %v", wholeFrames, pieces, splitFrames)
		}
	})
}
