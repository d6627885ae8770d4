package sigv4

import (
	"net/http"
	"strings"
)

const (
	algorithmHMAC = "AWS4-HMAC-SHA256"
	scopeTerm     = "aws4_request"
)

// authorization holds the parameters of an AWS4-HMAC-SHA256 Authorization
// header. Empty fields were absent (or given with an empty value).
type authorization struct {
	Algorithm     string
	Credential    string
	SignedHeaders string
	Signature     string
}

// String formats a in the layout every SDK signer emits.
func (a authorization) String() string {
	return a.Algorithm + " Credential=" + a.Credential +
		", SignedHeaders=" + a.SignedHeaders + ", Signature=" + a.Signature
}

// isAuthSeparator reports the bytes AWS splits Authorization parameters on.
// AWS tokenises on commas and whitespace alike (its error for
// "Credential= AKID/..." complains that "AKID/..." lacks an equal sign), so
// "a=1,b=2", "a=1, b=2" and "a=1 ,\tb=2" all parse the same.
func isAuthSeparator(c byte) bool {
	return c == ',' || c == ' ' || c == '\t'
}

// nextAuthToken returns the next separator-delimited token of s and the
// remainder, skipping leading separators. It does not allocate.
func nextAuthToken(s string) (tok, rest string) {
	i := 0
	for i < len(s) && isAuthSeparator(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !isAuthSeparator(s[j]) {
		j++
	}
	return s[i:j], s[j:]
}

// parseAuthorization splits an Authorization header value. It reports
// syntax errors only; missing parameters are left empty for the caller,
// which folds them into one message together with a missing date, as AWS
// does. Unknown parameters are ignored.
func parseAuthorization(h string) (authorization, *Error) {
	var a authorization
	orig := h
	a.Algorithm, h = nextAuthToken(h)
	if a.Algorithm == "" {
		return a, errIncomplete(missingAuthMessage(a, true, orig), "empty Authorization header")
	}
	if a.Algorithm != algorithmHMAC {
		return a, errIncomplete("Unsupported AWS 'algorithm': '"+echo(a.Algorithm)+"'.",
			"Authorization algorithm is not "+algorithmHMAC)
	}
	for {
		var tok string
		tok, h = nextAuthToken(h)
		if tok == "" {
			return a, nil
		}
		key, value, ok := strings.Cut(tok, "=")
		if !ok {
			return a, errIncomplete("'"+echo(tok)+"' not a valid key=value pair (missing equal-sign) in Authorization header: '"+
				echo(orig)+"'.", "Authorization parameter without '='")
		}
		var dst *string
		switch key {
		case "Credential":
			dst = &a.Credential
		case "SignedHeaders":
			dst = &a.SignedHeaders
		case "Signature":
			dst = &a.Signature
		default:
			continue
		}
		if *dst != "" {
			return a, errIncomplete("Authorization header has duplicate '"+key+"' parameter.",
				"duplicate Authorization parameter")
		}
		*dst = value
	}
}

// missingAuthMessage lists every absent piece in one message, the way AWS
// reports an incomplete Authorization header. raw is echoed back.
func missingAuthMessage(a authorization, missingDate bool, raw string) string {
	var b strings.Builder
	if a.Credential == "" {
		b.WriteString("Authorization header requires 'Credential' parameter. ")
	}
	if a.Signature == "" {
		b.WriteString("Authorization header requires 'Signature' parameter. ")
	}
	if a.SignedHeaders == "" {
		b.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
	}
	if missingDate {
		b.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	b.WriteString("Authorization=")
	b.WriteString(echo(raw))
	return b.String()
}

// credentialScope is the Credential parameter split into its five parts.
type credentialScope struct {
	AccessKeyID string
	Date        string
	Region      string
	Service     string
	Terminator  string
	// Scope is "date/region/service/terminator" exactly as the client
	// wrote it; it goes into the string to sign.
	Scope string
}

// parseCredential splits "AKID/20240101/us-east-1/chime/aws4_request".
// It reports false unless there are exactly five slash-separated elements.
func parseCredential(s string) (credentialScope, bool) {
	var c credentialScope
	var ok bool
	c.AccessKeyID, c.Scope, ok = strings.Cut(s, "/")
	if !ok {
		return c, false
	}
	var rest string
	if c.Date, rest, ok = strings.Cut(c.Scope, "/"); !ok {
		return c, false
	}
	if c.Region, rest, ok = strings.Cut(rest, "/"); !ok {
		return c, false
	}
	if c.Service, c.Terminator, ok = strings.Cut(rest, "/"); !ok {
		return c, false
	}
	return c, strings.IndexByte(c.Terminator, '/') < 0
}

func errBadCredential(s string) *Error {
	return errIncomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"+
		echo(s)+"'", "malformed Credential")
}

// checkScope validates the credential scope against the request date and
// the verifier's region and service. The region message names nothing: the
// configured region is not the client's business.
func (v *Verifier) checkScope(c credentialScope, amzDate string) *Error {
	if c.Date != amzDate[:8] {
		return errInvalid("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+
			echo(c.Date)+"' != '"+amzDate[:8]+"', from '"+amzDate+"'.", "credential scope date mismatch")
	}
	if c.Region != v.Region {
		return errInvalid(msgBadRegion, "credential scope region "+echo(c.Region)+" is not "+v.Region)
	}
	if c.Service != v.Service {
		return errInvalid("Credential should be scoped to correct service: '"+v.Service+"'.",
			"credential scope service mismatch")
	}
	if c.Terminator != scopeTerm {
		return errInvalid("Credential should be scoped with a valid terminator: '"+scopeTerm+"', not '"+echo(c.Terminator)+"'.",
			"credential scope terminator mismatch")
	}
	return nil
}

// signsHost reports whether the SignedHeaders list includes host. AWS
// insists on it: without it a signature could be replayed against another
// endpoint.
func signsHost(signedHeaders string) bool {
	return signs(signedHeaders, "host")
}

// signs reports whether the SignedHeaders list names header.
func signs(signedHeaders, header string) bool {
	for rest := signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		if strings.EqualFold(name, header) {
			return true
		}
	}
	return false
}

// checkRequiredSigned refuses a request that carries one of the
// Verifier's RequireSigned headers outside its signature. The message is
// the one AWS gives when headers it requires signed are not (S3's
// HeadersNotSigned), naming the header.
func (v *Verifier) checkRequiredSigned(r *http.Request, signedHeaders string) *Error {
	for _, h := range v.RequireSigned {
		if _, present := r.Header[http.CanonicalHeaderKey(h)]; present && !signs(signedHeaders, h) {
			lower := strings.ToLower(h)
			return errInvalid("There were headers present in the request which were not signed: "+lower,
				lower+" sent but not in SignedHeaders "+echo(signedHeaders))
		}
	}
	return nil
}

func errHostNotSigned() *Error {
	return errIncomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
		"host missing from SignedHeaders")
}
