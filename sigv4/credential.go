package sigv4

import (
	"context"
	"errors"
	"time"
)

// Credential is what an access key id resolves to.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when non-empty, must be presented by the request as
	// X-Amz-Security-Token (header, or query parameter for presigned URLs).
	// A credential without one rejects requests that carry a token, as AWS
	// does for long-term keys.
	SessionToken string
	// Expires is when a temporary credential stops working. The zero value
	// means it never expires.
	Expires time.Time
}

// CredentialSource resolves access key ids. It returns ErrUnknownAccessKey
// (possibly wrapped) when the id is unknown; any other error is treated as
// an internal failure and returned to the caller of the Verifier unchanged
// (wrapped), not as an *Error.
type CredentialSource interface {
	LookupCredential(ctx context.Context, accessKeyID string) (Credential, error)
}

// ErrUnknownAccessKey is returned by a CredentialSource for an access key id
// it does not know.
var ErrUnknownAccessKey = errors.New("sigv4: unknown access key id")

// StaticCredentials is a CredentialSource backed by a map from access key id
// to credential, for configuration-file keys and tests.
type StaticCredentials map[string]Credential

// LookupCredential implements CredentialSource.
func (s StaticCredentials) LookupCredential(_ context.Context, accessKeyID string) (Credential, error) {
	c, ok := s[accessKeyID]
	if !ok {
		return Credential{}, ErrUnknownAccessKey
	}
	return c, nil
}
