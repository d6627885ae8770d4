package carillon

import "time"

// UserEndpoint is a device registered for push notifications.
type UserEndpoint struct {
	UserARN         string
	ID              string
	Name            string
	Type            string // APNS, APNS_SANDBOX or GCM
	ResourceARN     string
	DeviceToken     string
	VoipDeviceToken string
	AllowMessages   string // ALL or NONE
	StateStatus     string // ACTIVE or INACTIVE
	StateReason     string
	Created         time.Time
	Updated         time.Time
}

// EndpointTx stores the endpoints of users.
type EndpointTx interface {
	// CreateEndpoint: ErrExists if the (user, id) pair is taken.
	CreateEndpoint(e *UserEndpoint) error
	GetEndpoint(userARN, id string) (*UserEndpoint, error)
	// UpdateEndpoint replaces Name, ResourceARN, VoipDeviceToken,
	// AllowMessages, the state and Updated: all but the type and device
	// token that identify the device, and Created.
	UpdateEndpoint(e *UserEndpoint) error
	DeleteEndpoint(userARN, id string) error
	// ListEndpoints pages by endpoint id.
	ListEndpoints(userARN string, p Page) ([]UserEndpoint, error)
	// EndpointsOf returns the endpoints of the users (or bots) named, in
	// no particular order: a page of a channel's members in one query
	// (push notifications).
	EndpointsOf(userARNs []string) ([]UserEndpoint, error)
	CountEndpoints(userARN string) (int, error)
}
