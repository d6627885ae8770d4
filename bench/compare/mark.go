package main

import (
	"bytes"
	"math/bits"
	"strconv"
	"sync"
	"time"
)

// markPrefix starts the mark every published message carries (in
// Carillon's Metadata, in Centrifugo's publication data): the publish
// time in Unix nanoseconds, the publisher and its sequence number,
// "cmp-sent=<ns>.<publisher>.<seq>". Digits and dots need no escaping
// in JSON, nor in a JSON string inside JSON, so the mark appears in
// every frame exactly as sent and the readers find it by scanning,
// without decoding the frame: they share the generator's core with the
// publishers.
const markPrefix = "cmp-sent="

// appendMark appends the mark of message seq of publisher pub, sent at.
func appendMark(dst []byte, at time.Time, pub int, seq int64) []byte {
	dst = append(dst, markPrefix...)
	dst = strconv.AppendInt(dst, at.UnixNano(), 10)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, int64(pub), 10)
	dst = append(dst, '.')
	return strconv.AppendInt(dst, seq, 10)
}

// mark is a parsed mark.
type mark struct {
	sent time.Time
	pub  int
	seq  int64
}

// parseMark parses the mark at the start of b (just after markPrefix).
func parseMark(b []byte) (mark, bool) {
	var nums [3]int64
	for k := range nums {
		digits := 0
		for len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
			if digits == 19 {
				return mark{}, false
			}
			nums[k] = nums[k]*10 + int64(b[0]-'0')
			b = b[1:]
			digits++
		}
		if digits == 0 {
			return mark{}, false
		}
		if k < 2 {
			if len(b) == 0 || b[0] != '.' {
				return mark{}, false
			}
			b = b[1:]
		}
	}
	if nums[1] > 1<<20 {
		return mark{}, false
	}
	return mark{sent: time.Unix(0, nums[0]), pub: int(nums[1]), seq: nums[2]}, true
}

// eachMark calls f with every mark in b, in order.
func eachMark(b []byte, f func(mark)) {
	prefix := []byte(markPrefix)
	for {
		i := bytes.Index(b, prefix)
		if i < 0 {
			return
		}
		b = b[i+len(prefix):]
		if m, ok := parseMark(b); ok {
			f(m)
		}
	}
}

// bitset is a growable set of small non-negative integers.
type bitset []uint64

func (s *bitset) add(i int64) (added bool) {
	w := int(i >> 6)
	if w >= len(*s) {
		*s = append(*s, make([]uint64, w+1-len(*s)+len(*s)/2)...)
	}
	bit := uint64(1) << (i & 63)
	if (*s)[w]&bit != 0 {
		return false
	}
	(*s)[w] |= bit
	return true
}

// count returns how many members s has.
func (s bitset) count() int64 {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return int64(n)
}

// countAnd returns how many members s and t have in common.
func (s bitset) countAnd(t bitset) int64 {
	n := 0
	for i := range min(len(s), len(t)) {
		n += bits.OnesCount64(s[i] & t[i])
	}
	return int64(n)
}

// ackSet records which messages of each publisher were acknowledged.
// Publishers of a closed loop own their set; the open loop's concurrent
// sends share one, hence the lock.
type ackSet struct {
	mu   sync.Mutex
	sets []bitset
}

func newAckSet(publishers int) *ackSet { return &ackSet{sets: make([]bitset, publishers)} }

func (a *ackSet) add(pub int, seq int64) {
	a.mu.Lock()
	a.sets[pub].add(seq)
	a.mu.Unlock()
}

func (a *ackSet) count() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var n int64
	for _, s := range a.sets {
		n += s.count()
	}
	return n
}
