package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"sync"
)

// signingKey is a derived SigV4 signing key kept as precomputed HMAC pads.
// Keeping the pads rather than the raw key lets a signature be computed
// with two sha256.Sum256 calls on stack buffers: crypto/hmac would allocate
// a fresh hash state (and pads) on every request.
type signingKey struct {
	ipad, opad [sha256.BlockSize]byte
}

// hmacSHA256 is the plain HMAC used for key derivation, which the cache
// keeps off the hot path.
func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// deriveSigningKey runs the SigV4 key-derivation chain:
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func deriveSigningKey(secret, date, region, service string) *signingKey {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, scopeTerm)
	var sk signingKey
	// The derived key is 32 bytes, shorter than the block, so HMAC uses it
	// zero-padded rather than hashed (RFC 2104).
	for i := range sk.ipad {
		var b byte
		if i < len(k) {
			b = k[i]
		}
		sk.ipad[i] = b ^ 0x36
		sk.opad[i] = b ^ 0x5c
	}
	return &sk
}

// mac computes HMAC-SHA256 of msg, where buf is ipad followed by msg (the
// caller builds the string to sign directly after the pad to avoid a copy).
func (k *signingKey) mac(buf []byte) [sha256.Size]byte {
	inner := sha256.Sum256(buf)
	var outer [sha256.BlockSize + sha256.Size]byte
	copy(outer[:], k.opad[:])
	copy(outer[sha256.BlockSize:], inner[:])
	return sha256.Sum256(outer[:])
}

// keyCacheSize bounds the derived-key cache. A key is valid for one
// (secret, day, region, service), so this covers that many active
// credentials per day; beyond it, entries are dropped at random, which for
// this access pattern is as good as LRU and needs no bookkeeping.
const keyCacheSize = 1024

type keyCacheKey struct {
	secret, date, region, service string
}

// keyCache memoises deriveSigningKey. The zero value is ready to use and
// safe for concurrent use.
type keyCache struct {
	mu sync.RWMutex
	m  map[keyCacheKey]*signingKey
}

func (c *keyCache) get(secret, date, region, service string) *signingKey {
	k := keyCacheKey{secret, date, region, service}
	c.mu.RLock()
	sk := c.m[k]
	c.mu.RUnlock()
	if sk != nil {
		return sk
	}
	sk = deriveSigningKey(secret, date, region, service)
	// The parts may be substrings of a request header; cloning keeps the
	// cache from pinning whole requests in memory.
	k = keyCacheKey{strings.Clone(secret), strings.Clone(date), strings.Clone(region), strings.Clone(service)}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[keyCacheKey]*signingKey)
	}
	if len(c.m) >= keyCacheSize {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = sk
	c.mu.Unlock()
	return sk
}
