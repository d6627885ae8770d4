package carillon

import "time"

// AccessKey is a per-user credential: it may act only as Bearer.
type AccessKey struct {
	ID        string
	Secret    string
	Bearer    string
	Expires   time.Time // zero: never
	Created   time.Time
	SessionID string // reserved for temporary keys; "" for long-lived ones
}

// AccessKeyTx stores per-user access keys.
type AccessKeyTx interface {
	CreateAccessKey(k *AccessKey) error
	GetAccessKey(id string) (*AccessKey, error)
	DeleteAccessKey(id string) error
	// ListAccessKeys lists the keys bound to a bearer.
	ListAccessKeys(bearer string) ([]AccessKey, error)
	// ListAllAccessKeys pages by ID through every per-user key.
	ListAllAccessKeys(p Page) ([]AccessKey, error)
}
