package sigv4

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxPresignExpires is a week, the longest X-Amz-Expires AWS accepts.
const maxPresignExpires = 604800

// PresignOptions tune VerifyPresigned for websocket connect URLs.
type PresignOptions struct {
	// Host is the host[:port] the client was told to sign, e.g. the
	// endpoint returned by GetMessagingSessionEndpoint; "" means r.Host.
	// It matters behind proxies, where the Host that reaches the server is
	// not the one in the URL the client signed. It is compared lower-cased,
	// as amazon-chime-sdk-js signs it.
	Host string
	// ExtraSkew is a tolerance added on both sides of the validity window
	// [X-Amz-Date, X-Amz-Date+X-Amz-Expires]. amazon-chime-sdk-js signs
	// connect URLs for only 10 seconds, which a slow reconnect can miss.
	ExtraSkew time.Duration
}

// VerifyPresigned verifies a presigned GET (query-string authentication),
// such as the messaging websocket connect URL. The request body is taken to
// be empty. It returns the credential that signed the URL; errors are as
// for VerifyRequest.
func (v *Verifier) VerifyPresigned(r *http.Request, opt PresignOptions) (Credential, error) {
	return v.verifyQuery(r, nil, parseQuery(r.URL.RawQuery), opt)
}

func (v *Verifier) verifyQuery(r *http.Request, body []byte, ps []queryParam, opt PresignOptions) (Credential, error) {
	var sr signedRequest
	if err := v.fromQuery(r, ps, opt, &sr); err != nil {
		return Credential{}, err
	}
	return v.verify(&sr, body)
}

// presignParams are the X-Amz-* query parameters, decoded.
type presignParams struct {
	algorithm, credential, date, expires, signedHeaders, signature string
	token, contentSHA256                                           string
	hasToken, hasContentSHA256                                     bool
}

// field returns where the value of an authentication parameter goes, and
// its presence flag when the parameter is optional.
func (pp *presignParams) field(key string) (dst *string, has *bool) {
	switch key {
	case "X-Amz-Algorithm":
		return &pp.algorithm, nil
	case "X-Amz-Credential":
		return &pp.credential, nil
	case "X-Amz-Date":
		return &pp.date, nil
	case "X-Amz-Expires":
		return &pp.expires, nil
	case "X-Amz-SignedHeaders":
		return &pp.signedHeaders, nil
	case "X-Amz-Signature":
		return &pp.signature, nil
	case "X-Amz-Security-Token":
		return &pp.token, &pp.hasToken
	case "X-Amz-Content-Sha256":
		return &pp.contentSHA256, &pp.hasContentSHA256
	}
	return nil, nil
}

// collectPresignParams extracts the authentication parameters. Each may
// appear once: with duplicates it would be ambiguous which one was meant.
func collectPresignParams(ps []queryParam) (presignParams, *Error) {
	var pp presignParams
	seen := make(map[string]bool, 8)
	for _, p := range ps {
		key := queryUnescape(p.key)
		dst, has := pp.field(key)
		if dst == nil {
			continue
		}
		if seen[key] {
			return pp, errIncomplete("Query-string parameter '"+key+"' must appear only once.",
				"duplicate presign parameter")
		}
		seen[key] = true
		*dst = queryUnescape(p.value)
		if has != nil {
			*has = true
		}
	}
	return pp, nil
}

// missing lists absent required parameters in AWS's style, or "".
func (pp *presignParams) missing() string {
	var names []string
	for _, f := range []struct{ name, value string }{
		{"X-Amz-Algorithm", pp.algorithm},
		{"X-Amz-Credential", pp.credential},
		{"X-Amz-Date", pp.date},
		{"X-Amz-Expires", pp.expires},
		{"X-Amz-SignedHeaders", pp.signedHeaders},
		{"X-Amz-Signature", pp.signature},
	} {
		if f.value == "" {
			names = append(names, "'"+f.name+"'")
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "AWS query-string parameters must include " + strings.Join(names, ", ") +
		". Re-examine the query-string parameters."
}

// fromQuery fills sr from a presigned query, validating everything that
// needs neither the secret nor any hashing first.
func (v *Verifier) fromQuery(r *http.Request, ps []queryParam, opt PresignOptions, sr *signedRequest) *Error {
	pp, err := collectPresignParams(ps)
	if err != nil {
		return err
	}
	if msg := pp.missing(); msg != "" {
		return errIncomplete(msg, "incomplete presigned query")
	}
	if pp.algorithm != algorithmHMAC {
		return errIncomplete("Unsupported AWS 'algorithm': '"+echo(pp.algorithm)+"'.",
			"X-Amz-Algorithm is not "+algorithmHMAC)
	}
	date, ok := parseAmzDate(pp.date)
	if !ok {
		return errIncomplete("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
			"malformed X-Amz-Date")
	}
	expires, err := parseExpires(pp.expires)
	if err != nil {
		return err
	}
	scope, ok := parseCredential(pp.credential)
	if !ok {
		return errBadCredential(pp.credential)
	}
	if err := v.checkScope(scope, pp.date); err != nil {
		return err
	}
	if !signsHost(pp.signedHeaders) {
		return errHostNotSigned()
	}
	if err := v.checkRequiredSigned(r, pp.signedHeaders); err != nil {
		return err
	}
	sr.now = v.now()
	if err := checkWindow(pp.date, date, sr.now, expires+opt.ExtraSkew, v.maxSkew()+opt.ExtraSkew); err != nil {
		return err
	}

	sr.r = r
	sr.scope = scope
	sr.amzDate = pp.date
	sr.signedHeaders = pp.signedHeaders
	sr.signature = pp.signature
	sr.host = requestHost(r)
	if opt.Host != "" {
		sr.host = strings.ToLower(opt.Host)
	}
	sr.token, sr.hasToken = pp.token, pp.hasToken
	sr.declaredHash, sr.hasDeclaredHash = pp.contentSHA256, pp.hasContentSHA256
	sr.query = ps
	sr.queryForms = presignQueryForms
	sr.dropSignature = true
	return nil
}

// parseExpires validates X-Amz-Expires: whole seconds, 1 to a week.
func parseExpires(s string) (time.Duration, *Error) {
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return 0, errIncomplete("X-Amz-Expires should be a number", "malformed X-Amz-Expires")
	case n < 1:
		return 0, errIncomplete("X-Amz-Expires must be positive", "X-Amz-Expires out of range")
	case n > maxPresignExpires:
		return 0, errIncomplete("X-Amz-Expires must be less than a week (in seconds) that is 604800",
			"X-Amz-Expires out of range")
	}
	return time.Duration(n) * time.Second, nil
}
