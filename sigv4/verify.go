package sigv4

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"
)

const defaultMaxSkew = 15 * time.Minute

// Verifier checks SigV4 signatures made for one service and region. It is
// safe for concurrent use; it must not be copied after first use because
// it owns a cache of derived signing keys.
type Verifier struct {
	// Service is the signing name, "chime" for the Chime SDK APIs.
	Service string
	// Region is the only region accepted in the credential scope.
	Region string
	// Credentials resolves access key ids.
	Credentials CredentialSource
	// Now returns the current time; nil means time.Now. Tests inject a
	// fixed clock.
	Now func() time.Time
	// MaxSkew is how far a header-signed request's date may be from Now in
	// either direction; 0 means 15 minutes, AWS's tolerance.
	MaxSkew time.Duration
	// RequireSigned names headers (case-insensitive) that, when a request
	// carries them, must be among its signed headers: the headers the
	// service acts on, such as x-amz-chime-bearer. Without it, whoever
	// holds one signed request could change such a header and replay it
	// within the signature's window.
	RequireSigned []string

	keys keyCache
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return defaultMaxSkew
}

// signedRequest is everything the credential and signature checks need,
// gathered from either the Authorization header or a presigned query.
type signedRequest struct {
	r   *http.Request
	now time.Time

	scope         credentialScope
	amzDate       string // ISO 8601 basic, as it goes into the string to sign
	signedHeaders string
	signature     string
	host          string // value of the host canonical header

	token    string
	hasToken bool

	declaredHash    string // X-Amz-Content-Sha256 as sent
	hasDeclaredHash bool

	query         []queryParam
	queryForms    []int
	dropSignature bool // presigned: X-Amz-Signature is not part of the canonical query
}

// Canonical-query forms tried per request style, most likely first. SDKs
// sign header-authenticated requests with the RFC 3986 form; the as-sent
// sorted form covers botocore, which signs the URL's query as written when
// handed a URL rather than parameters.
var (
	headerQueryForms  = []int{queryEncoded, querySorted}
	presignQueryForms = []int{querySorted, queryAsSent, queryEncoded}
)

// VerifyRequest verifies a request signed with the Authorization header
// (AWS4-HMAC-SHA256) or, when there is no Authorization header but the
// query has X-Amz-Algorithm, a presigned query. body is the complete request
// body, already read by the caller; r.Body is not touched.
//
// It returns the credential that signed the request. A failed check is an
// *Error; any other error comes from the CredentialSource and should be
// answered as an internal failure.
func (v *Verifier) VerifyRequest(r *http.Request, body []byte) (Credential, error) {
	authz := r.Header.Values("Authorization")
	switch {
	case len(authz) > 1:
		return Credential{}, errIncomplete("Only one Authorization header is allowed.", "multiple Authorization headers")
	case len(authz) == 0 || authz[0] == "":
		ps := parseQuery(r.URL.RawQuery)
		if hasParam(ps, "X-Amz-Algorithm") {
			return v.verifyQuery(r, body, ps, PresignOptions{})
		}
		return Credential{}, newError(TypeMissingAuthenticationToken, msgMissingToken,
			"no Authorization header and no X-Amz-Algorithm query parameter")
	}
	var sr signedRequest
	if err := v.fromHeader(r, authz[0], &sr); err != nil {
		return Credential{}, err
	}
	return v.verify(&sr, body)
}

// fromHeader fills sr from the Authorization header and validates
// everything that needs neither the secret nor any hashing: syntax, scope
// and clock skew come first so that junk and replayed requests are turned
// away cheaply.
func (v *Verifier) fromHeader(r *http.Request, authz string, sr *signedRequest) *Error {
	a, err := parseAuthorization(authz)
	if err != nil {
		return err
	}
	date, missingDate, err := requestDate(r, sr)
	if err != nil {
		return err
	}
	if a.Credential == "" || a.Signature == "" || a.SignedHeaders == "" || missingDate {
		return errIncomplete(missingAuthMessage(a, missingDate, authz), "incomplete Authorization header")
	}
	scope, ok := parseCredential(a.Credential)
	if !ok {
		return errBadCredential(a.Credential)
	}
	if err := v.checkScope(scope, sr.amzDate); err != nil {
		return err
	}
	if !signsHost(a.SignedHeaders) {
		return errHostNotSigned()
	}
	if err := v.checkRequiredSigned(r, a.SignedHeaders); err != nil {
		return err
	}
	sr.now = v.now()
	if err := checkWindow(sr.amzDate, date, sr.now, v.maxSkew(), v.maxSkew()); err != nil {
		return err
	}

	sr.r = r
	sr.scope = scope
	sr.signedHeaders = a.SignedHeaders
	sr.signature = a.Signature
	sr.host = requestHost(r)
	if vs := r.Header.Values("X-Amz-Security-Token"); len(vs) > 0 {
		sr.token, sr.hasToken = vs[0], true
	}
	if vs := r.Header.Values("X-Amz-Content-Sha256"); len(vs) > 0 {
		sr.declaredHash, sr.hasDeclaredHash = vs[0], true
	}
	sr.query = parseQuery(r.URL.RawQuery)
	sr.queryForms = headerQueryForms
	return nil
}

// requestDate reads the signing date from X-Amz-Date or, failing that, the
// Date header (RFC 1123), and sets sr.amzDate to its ISO 8601 basic form.
func requestDate(r *http.Request, sr *signedRequest) (t time.Time, missing bool, err *Error) {
	if vs := r.Header.Values("X-Amz-Date"); len(vs) > 0 && vs[0] != "" {
		t, ok := parseAmzDate(vs[0])
		if !ok {
			return t, false, errIncomplete("Date must be in ISO-8601 'basic format'. Got '"+echo(vs[0])+
				"'. See http://en.wikipedia.org/wiki/ISO_8601", "malformed X-Amz-Date")
		}
		sr.amzDate = vs[0]
		return t, false, nil
	}
	d := r.Header.Get("Date")
	if d == "" {
		return time.Time{}, true, nil
	}
	t, ok := parseHTTPDate(d)
	if !ok {
		return t, false, errIncomplete("Date must be in RFC 1123 format. Got '"+echo(d)+"'.", "malformed Date header")
	}
	sr.amzDate = formatAmzDate(t)
	return t, false, nil
}

// parseHTTPDate accepts the HTTP date forms plus RFC 1123 with a numeric
// zone, which is what botocore sends ("Mon, 01 Jan 2024 12:00:00 -0000",
// from Python's email.utils.formatdate).
func parseHTTPDate(d string) (time.Time, bool) {
	if t, err := http.ParseTime(d); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.RFC1123Z, d); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// requestHost is the Host the client sent; net/http moves it from the
// header map to r.Host.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

// verify runs the checks that need the credential: token, expiry, body
// hash and finally the signature itself.
func (v *Verifier) verify(sr *signedRequest, body []byte) (Credential, error) {
	cred, err := v.lookup(sr)
	if err != nil {
		return Credential{}, err
	}
	var ph payloadHash
	if err := ph.resolve(sr, body); err != nil {
		return Credential{}, err
	}
	if err := v.checkSignature(sr, cred, ph.bytes()); err != nil {
		return Credential{}, err
	}
	return cred, nil
}

// lookup resolves the access key and checks the session token and expiry.
func (v *Verifier) lookup(sr *signedRequest) (Credential, error) {
	if v.Credentials == nil {
		return Credential{}, errors.New("sigv4: Verifier has no CredentialSource")
	}
	akid := sr.scope.AccessKeyID
	cred, err := v.Credentials.LookupCredential(sr.r.Context(), akid)
	if errors.Is(err, ErrUnknownAccessKey) {
		return Credential{}, errUnrecognized("unknown access key id " + echo(akid))
	}
	if err != nil {
		return Credential{}, fmt.Errorf("sigv4: looking up access key: %w", err)
	}
	if cred.AccessKeyID == "" {
		cred.AccessKeyID = akid
	}
	switch {
	case cred.SessionToken != "":
		if !sr.hasToken || subtle.ConstantTimeCompare([]byte(sr.token), []byte(cred.SessionToken)) != 1 {
			return Credential{}, errUnrecognized("security token missing or wrong for " + echo(akid))
		}
	case sr.hasToken && sr.token != "":
		return Credential{}, errUnrecognized("security token sent for long-term key " + echo(akid))
	}
	if !cred.Expires.IsZero() && !sr.now.Before(cred.Expires) {
		return Credential{}, newError(TypeExpiredToken, msgExpiredToken,
			"credential "+echo(akid)+" expired at "+cred.Expires.UTC().Format(time.RFC3339))
	}
	return cred, nil
}

const unsignedPayload = "UNSIGNED-PAYLOAD"

// payloadHash is the hashed-payload line of the canonical request, held in
// an array so the hot path does not allocate a string for it.
type payloadHash struct {
	b [2 * sha256.Size]byte
	n int
}

func (p *payloadHash) bytes() []byte { return p.b[:p.n] }

// resolve picks the payload hash: the X-Amz-Content-Sha256 value when the
// client sent one (botocore and aws-sdk-go-v2 may), else the SHA-256 of the
// body. A declared hex hash must match the body, otherwise a body could be
// swapped under a signature that only covers the header. UNSIGNED-PAYLOAD
// is honoured only when it is literally what was sent.
func (p *payloadHash) resolve(sr *signedRequest, body []byte) *Error {
	sum := sha256.Sum256(body)
	if !sr.hasDeclaredHash {
		p.n = hex.Encode(p.b[:], sum[:])
		return nil
	}
	d := sr.declaredHash
	if d == unsignedPayload {
		p.n = copy(p.b[:], d)
		return nil
	}
	var declared [sha256.Size]byte
	if !decodeHex32(d, &declared) {
		return errMismatch("X-Amz-Content-Sha256 is neither a SHA-256 hex digest nor " + unsignedPayload + ": " + echo(d))
	}
	if declared != sum {
		return errMismatch("X-Amz-Content-Sha256 does not match the body (body sha256 " + hex.EncodeToString(sum[:]) + ")")
	}
	p.n = copy(p.b[:], d)
	return nil
}

// decodeHex32 decodes exactly 64 hex digits (either case) without
// allocating.
func decodeHex32(s string, dst *[32]byte) bool {
	if len(s) != 64 {
		return false
	}
	for i := range dst {
		hi, ok1 := fromHex(s[2*i])
		lo, ok2 := fromHex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func hasParam(ps []queryParam, key string) bool {
	for _, p := range ps {
		if queryUnescape(p.key) == key {
			return true
		}
	}
	return false
}
