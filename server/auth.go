package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/restjson"
	"github.com/carillonhq/carillon/sigv4"
)

// RootCredentials is the developer key pair: it may call every operation
// and act as any bearer.
type RootCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

// credentialSource resolves access keys for the SigV4 verifier: the root
// key from configuration, per-user keys from the store.
type credentialSource struct {
	root  RootCredentials
	store carillon.Store
}

func (c *credentialSource) LookupCredential(ctx context.Context, id string) (sigv4.Credential, error) {
	if subtle.ConstantTimeCompare([]byte(id), []byte(c.root.AccessKeyID)) == 1 {
		return sigv4.Credential{AccessKeyID: id, SecretAccessKey: c.root.SecretAccessKey}, nil
	}
	k, err := c.lookupKey(ctx, id)
	if err != nil {
		return sigv4.Credential{}, err
	}
	return sigv4.Credential{AccessKeyID: k.ID, SecretAccessKey: k.Secret, SessionToken: k.SessionID, Expires: k.Expires}, nil
}

func (c *credentialSource) lookupKey(ctx context.Context, id string) (*carillon.AccessKey, error) {
	var k *carillon.AccessKey
	err := c.store.View(ctx, func(tx carillon.Tx) error {
		var err error
		k, err = tx.GetAccessKey(id)
		return err
	})
	if errors.Is(err, carillon.ErrNotFound) {
		return nil, sigv4.ErrUnknownAccessKey
	}
	return k, err
}

// boundHeaders are the headers the API models bind to input members (the
// x-amz-* headers the service acts on): a request that carries one must
// sign it (sigv4.Verifier.RequireSigned). Every SDK signs every header it
// sends but a few transport ones (User-Agent, X-Amzn-Trace-Id, Expect,
// Transfer-Encoding), so this refuses only forged requests.
var boundHeaders = []string{"x-amz-chime-bearer"}

// authenticator verifies SigV4 and says who the caller is.
type authenticator struct {
	verifier *sigv4.Verifier
	creds    *credentialSource
}

func (a *authenticator) Authenticate(r *http.Request, body []byte) (carillon.Caller, error) {
	cred, err := a.verifier.VerifyRequest(r, body)
	if err != nil {
		return carillon.Caller{}, wireAuthError(err)
	}
	return a.callerOf(r.Context(), cred)
}

// AuthenticatePresigned verifies a presigned connect URL, signed for host
// (the endpoint the client was given) or, failing that, for the Host the
// request arrived with: a hand-written client may connect to the plain
// listener it knows.
func (a *authenticator) AuthenticatePresigned(r *http.Request, host string, skew time.Duration) (carillon.Caller, error) {
	cred, err := a.verifier.VerifyPresigned(r, sigv4.PresignOptions{Host: host, ExtraSkew: skew})
	if err != nil && host != "" && !strings.EqualFold(host, r.Host) {
		if c2, err2 := a.verifier.VerifyPresigned(r, sigv4.PresignOptions{ExtraSkew: skew}); err2 == nil {
			cred, err = c2, nil
		}
	}
	if err != nil {
		return carillon.Caller{}, wireAuthError(err)
	}
	return a.callerOf(r.Context(), cred)
}

func (a *authenticator) callerOf(ctx context.Context, cred sigv4.Credential) (carillon.Caller, error) {
	if cred.AccessKeyID == a.creds.root.AccessKeyID {
		return carillon.Caller{AccessKeyID: cred.AccessKeyID, Root: true}, nil
	}
	k, err := a.creds.lookupKey(ctx, cred.AccessKeyID)
	if err != nil {
		return carillon.Caller{}, wireAuthError(err)
	}
	return carillon.Caller{AccessKeyID: k.ID, Bearer: k.Bearer, Expires: k.Expires}, nil
}

// wireAuthError turns a verification failure into the front-door error
// the client sees.
func wireAuthError(err error) error {
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &restjson.WireError{Status: se.Status, Type: se.Type, Message: se.Message, Reason: se.Reason}
	}
	if errors.Is(err, sigv4.ErrUnknownAccessKey) {
		return &restjson.WireError{Status: http.StatusForbidden, Type: "UnrecognizedClientException",
			Message: "The security token included in the request is invalid."}
	}
	return err
}

// callerMayAct is the gate before any service rule: a per-user key may
// only call operations that carry a bearer, and only as its own bearer,
// plus the few operations a client needs without one (the messaging
// session endpoint). Root may do anything.
func callerMayAct(c carillon.Caller, op *api.Operation, bearer string) error {
	if c.Root {
		return nil
	}
	if op.Bearer {
		if bearer == c.Bearer {
			return nil
		}
		return carillon.Errorf(carillon.Forbidden, "User: %s is not authorized to perform: chime:%s as bearer %s", c.Bearer, op.Name, bearer)
	}
	if userOperations[op.Name] {
		return nil
	}
	return carillon.Errorf(carillon.Forbidden, "User: %s is not authorized to perform: chime:%s; it needs the root credentials", c.Bearer, op.Name)
}

// userOperations may be called by per-user keys although they carry no
// bearer.
var userOperations = map[string]bool{
	"GetMessagingSessionEndpoint": true,
}
