package sigv4

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strconv"
	"strings"
)

// Typical sizes, so the buffers below live on the stack; longer requests
// simply grow onto the heap.
const (
	canonicalBufSize = 1024
	headersBufSize   = 512
	stsBufSize       = sha256.BlockSize + 160
)

var emptyQueryForms = []string{""}

// checkSignature recomputes the signature for every canonical form a real
// signer could have produced for this request (usually exactly one) and
// compares each with the one sent, in constant time.
func (v *Verifier) checkSignature(sr *signedRequest, cred Credential, payload []byte) *Error {
	var want [sha256.Size]byte
	if !decodeHex32(sr.signature, &want) {
		return errMismatch("Signature is not 64 hex digits")
	}
	key := v.keys.get(cred.SecretAccessKey, sr.scope.Date, sr.scope.Region, sr.scope.Service)

	rawPath := requestPath(sr.r)
	paths := [2]string{rawPath, normalizePath(rawPath)}
	nPaths := 1
	if paths[1] != paths[0] {
		nPaths = 2
	}

	queries := emptyQueryForms
	if len(sr.query) > 0 {
		queries = canonicalQueries(sr.query, sr.dropSignature, sr.queryForms...)
	}

	var hbuf [headersBufSize]byte
	headers := [2][]byte{}
	var sawTab bool
	headers[0], sawTab = appendCanonicalHeaders(hbuf[:0], sr.r, sr.host, sr.signedHeaders, false)
	nHeaders := 1
	if sawTab {
		headers[1], _ = appendCanonicalHeaders(nil, sr.r, sr.host, sr.signedHeaders, true)
		nHeaders = 2
	}

	var crBuf [canonicalBufSize]byte
	var stsBuf [stsBufSize]byte
	var reason string
	for _, p := range paths[:nPaths] {
		for _, q := range queries {
			for _, h := range headers[:nHeaders] {
				cr := appendCanonicalRequest(crBuf[:0], sr.r.Method, p, q, h, sr.signedHeaders, payload)
				sts := append(stsBuf[:0], key.ipad[:]...)
				sts = appendStringToSign(sts, sr.amzDate, sr.scope.Scope, cr)
				got := key.mac(sts)
				if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
					return nil
				}
				if reason == "" {
					reason = "canonical request:\n" + redactToken(string(cr)) +
						"\nstring to sign:\n" + string(sts[sha256.BlockSize:])
				}
			}
		}
	}
	if n := nPaths * len(queries) * nHeaders; n > 1 {
		reason += "\n(first of " + strconv.Itoa(n) + " canonical forms tried)"
	}
	return errMismatch(reason)
}

// appendCanonicalRequest lays out the SigV4 canonical request:
// method, canonical URI, canonical query, canonical headers, a blank line,
// the signed-headers list and the payload hash, newline separated.
func appendCanonicalRequest(dst []byte, method, path, query string, headers []byte, signedHeaders string, payload []byte) []byte {
	dst = append(dst, method...)
	dst = append(dst, '\n')
	dst = appendCanonicalURI(dst, path)
	dst = append(dst, '\n')
	dst = append(dst, query...)
	dst = append(dst, '\n')
	dst = append(dst, headers...)
	dst = append(dst, '\n')
	dst = append(dst, signedHeaders...)
	dst = append(dst, '\n')
	return append(dst, payload...)
}

// appendStringToSign appends the string to sign for a canonical request.
func appendStringToSign(dst []byte, amzDate, scope string, canonicalRequest []byte) []byte {
	dst = append(dst, algorithmHMAC+"\n"...)
	dst = append(dst, amzDate...)
	dst = append(dst, '\n')
	dst = append(dst, scope...)
	dst = append(dst, '\n')
	sum := sha256.Sum256(canonicalRequest)
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	return append(dst, hx[:]...)
}

// redactToken hides the session token in a canonical request destined for
// the server log. By the time the signature is checked the token has
// already been matched against the credential, so it is a live secret, and
// its value never explains a mismatch anyway.
func redactToken(canonicalRequest string) string {
	lines := strings.Split(canonicalRequest, "\n")
	for i, line := range lines {
		switch {
		case i == 2: // canonical query: presigned URLs carry the token here
			ps := strings.Split(line, "&")
			for j, p := range ps {
				if k, _, ok := strings.Cut(p, "="); ok && queryUnescape(k) == "X-Amz-Security-Token" {
					ps[j] = k + "=<redacted>"
				}
			}
			lines[i] = strings.Join(ps, "&")
		case len(line) > len(tokenHeader) && strings.EqualFold(line[:len(tokenHeader)], tokenHeader):
			lines[i] = line[:len(tokenHeader)] + "<redacted>"
		}
	}
	return strings.Join(lines, "\n")
}

const tokenHeader = "x-amz-security-token:"
