package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/restjson"
)

// IssuedCredentials is a per-user key pair as printed by `carillon
// credentials create` and returned by POST /carillon/credentials. Its field
// names are those of the AWS CLI's credential_process output, so the JSON
// can feed an SDK's credential chain directly.
type IssuedCredentials struct {
	Version         int        `json:"Version"`
	AccessKeyID     string     `json:"AccessKeyId"`
	SecretAccessKey string     `json:"SecretAccessKey"`
	SessionToken    string     `json:"SessionToken,omitempty"`
	Expiration      *time.Time `json:"Expiration,omitempty"`
	Bearer          string     `json:"Bearer"`
}

// CreateUserCredentials issues a key pair that may act only as bearer, an
// AppInstanceUser or AppInstanceBot ARN. With ttl > 0 the key expires and,
// like AWS temporary credentials, comes with a session token that every
// request must carry.
func CreateUserCredentials(ctx context.Context, store carillon.Store, bearer string, ttl time.Duration) (IssuedCredentials, error) {
	if ttl < 0 {
		return IssuedCredentials{}, carillon.Errorf(carillon.BadRequest, "the expiry must be positive")
	}
	var out IssuedCredentials
	err := store.Update(ctx, func(tx carillon.Tx) error {
		if err := bearerExists(tx, bearer); err != nil {
			return err
		}
		k := &carillon.AccessKey{ID: NewAccessKeyID(), Secret: NewSecret(), Bearer: bearer, Created: tx.Now()}
		if ttl > 0 {
			k.Expires = tx.Now().Add(ttl)
			k.SessionID = NewSessionToken()
		}
		if err := tx.CreateAccessKey(k); err != nil {
			return err
		}
		out = IssuedCredentials{Version: 1, AccessKeyID: k.ID, SecretAccessKey: k.Secret, SessionToken: k.SessionID, Bearer: bearer}
		if !k.Expires.IsZero() {
			exp := k.Expires
			out.Expiration = &exp
		}
		return nil
	})
	return out, err
}

func bearerExists(tx carillon.Tx, arn string) error {
	r, ok := carillon.ParseResource(arn)
	var err error
	switch {
	case ok && r.Type == carillon.TypeUser:
		_, err = tx.GetUser(arn)
	case ok && r.Type == carillon.TypeBot:
		_, err = tx.GetBot(arn)
	default:
		return carillon.Errorf(carillon.BadRequest, "%s is not an AppInstanceUser or AppInstanceBot ARN", arn)
	}
	if errors.Is(err, carillon.ErrNotFound) {
		return carillon.Errorf(carillon.NotFound, "%s does not exist", arn)
	}
	return err
}

// adminHandler serves Carillon's own API under /carillon/. Every call is
// SigV4-signed like the AWS APIs; all but caller-identity need the root
// credentials.
//
//	POST   /carillon/credentials          {"Bearer": ARN, "ExpiresInSeconds": n} → IssuedCredentials
//	DELETE /carillon/credentials/{AccessKeyId}
//	GET    /carillon/status               → Status
//	GET    /carillon/caller-identity      → CallerIdentity (any key)
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /carillon/credentials", s.rootOnly(s.createCredentials))
	mux.HandleFunc("DELETE /carillon/credentials/{id}", s.rootOnly(s.deleteCredentials))
	mux.HandleFunc("GET /carillon/status", s.rootOnly(s.status))
	mux.HandleFunc("GET /carillon/caller-identity", s.signed(false, s.callerIdentity))
	mux.HandleFunc("/carillon/", func(w http.ResponseWriter, r *http.Request) {
		restjson.WriteError(w, restjson.NewRequestID(), &restjson.WireError{Status: http.StatusNotFound,
			Type: "UnknownOperationException", Message: "No Carillon operation matches " + r.Method + " " + r.URL.Path})
	})
	return mux
}

// adminFunc serves a call of Carillon's own API; carillon.CallerFrom
// gives the caller.
type adminFunc func(r *http.Request, body []byte) (any, int, error)

func (s *Server) rootOnly(fn adminFunc) http.HandlerFunc { return s.signed(true, fn) }

// signed verifies the request's signature, and that the key is root when
// rootOnly, before fn.
func (s *Server) signed(rootOnly bool, fn adminFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		reqID := restjson.NewRequestID()
		body, err := readAdminBody(r)
		if err == nil {
			var c carillon.Caller
			c, err = s.auth.Authenticate(r, body)
			if err == nil && rootOnly && !c.Root {
				err = carillon.Errorf(carillon.Forbidden, "Carillon's own API needs the root credentials")
			}
			r = r.WithContext(carillon.WithCaller(r.Context(), c))
		}
		var out any
		status := http.StatusOK
		if err == nil {
			out, status, err = fn(r, body)
		}
		if err != nil {
			e := restjson.WriteError(w, reqID, err)
			s.log.Info("request", "request_id", reqID, "op", "carillon:"+r.Method+" "+r.URL.Path, "status", e.Status)
			return
		}
		w.Header().Set("x-amzn-RequestId", reqID)
		if out == nil {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(out)
		s.log.Info("request", "request_id", reqID, "op", "carillon:"+r.Method+" "+r.URL.Path, "status", status)
	}
}

func readAdminBody(r *http.Request) ([]byte, error) {
	const limit = 64 << 10
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil || len(b) > limit {
		return nil, carillon.Errorf(carillon.BadRequest, "the request body could not be read or is over %d bytes", limit)
	}
	return b, nil
}

func (s *Server) createCredentials(r *http.Request, body []byte) (any, int, error) {
	var in struct {
		Bearer           string
		ExpiresInSeconds int64
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, 0, &restjson.WireError{Status: http.StatusBadRequest, Type: "SerializationException", Message: "expected {\"Bearer\": ARN, \"ExpiresInSeconds\": n}"}
	}
	out, err := CreateUserCredentials(r.Context(), s.store, in.Bearer, time.Duration(in.ExpiresInSeconds)*time.Second)
	if err != nil {
		return nil, 0, err
	}
	return out, http.StatusCreated, nil
}

func (s *Server) deleteCredentials(r *http.Request, _ []byte) (any, int, error) {
	id := r.PathValue("id")
	err := s.store.Update(r.Context(), func(tx carillon.Tx) error { return tx.DeleteAccessKey(id) })
	if errors.Is(err, carillon.ErrNotFound) {
		return nil, 0, carillon.Errorf(carillon.NotFound, "access key %s does not exist", id)
	}
	return nil, http.StatusNoContent, err
}
