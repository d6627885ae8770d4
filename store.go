package carillon

import (
	"context"
	"errors"
	"time"
)

// Store errors. Stores return them (possibly wrapped); services turn them
// into the *Error of the kind their operation models.
var (
	// ErrNotFound: the row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: a row with the same key already exists.
	ErrExists = errors.New("already exists")
	// ErrReadOnly: a write was attempted in a View transaction.
	ErrReadOnly = errors.New("write in a read-only transaction")
)

// Store is the persistence of Carillon. It holds data, not rules: every
// check of who may do what lives in the services, so that each engine
// (SQLite now, PostgreSQL for clusters) behaves the same. The conformance
// suite in package storetest is the contract; each engine runs it.
type Store interface {
	// View runs fn in a read-only transaction over a consistent snapshot.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Update runs fn in a read-write transaction and commits when fn
	// returns nil; any error (or panic) rolls everything back.
	// Transactions are serializable and concurrent Updates never fail
	// for contention: an engine that detects serialization conflicts
	// retries, so fn may run more than once and must not have effects
	// outside tx. tx.Now() is fixed for the whole transaction. fn must
	// not call Update; it may call View.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
	Close() error
}

// Page asks for one page of a list ordered by a unique key: the rows whose
// key is greater than After ("" for the first page), at most Limit of them.
// Keyset pages do not shift when rows are inserted or deleted between two
// calls, so a client paging through a list sees no row twice.
type Page struct {
	After string
	Limit int
}

// Tx is one transaction. Methods return ErrNotFound, ErrExists or
// ErrReadOnly as documented, or an engine error. ErrNotFound and ErrExists
// do not end the transaction: it stays usable and commits what was
// written around them. Creating a row under a missing parent (a user of a
// missing AppInstance) returns ErrNotFound. Times come back in UTC with
// millisecond precision; the zero time round-trips as zero.
type Tx interface {
	// Now is the transaction's time, fixed when it began (from the
	// store's Clock); every timestamp written in the transaction uses it.
	Now() time.Time

	IdentityTx
	MessagingTx
	FlowTx
	StreamTx
	TagTx
	IdempotencyTx
	AccessKeyTx
	OutboxTx
	JobsTx
}

// IdentityTx stores the resources of the Chime SDK Identity API.
type IdentityTx interface {
	// CreateAppInstance inserts a; ErrExists if its ARN is taken.
	CreateAppInstance(a *AppInstance) error
	GetAppInstance(arn string) (*AppInstance, error)
	// UpdateAppInstance replaces Name, Metadata and Updated.
	UpdateAppInstance(a *AppInstance) error
	// DeleteAppInstance deletes the AppInstance and every resource under
	// it (users, bots, admins, endpoints, tags, settings, and whatever
	// later services keep under its ARN).
	DeleteAppInstance(arn string) error
	// ListAppInstances pages by ARN.
	ListAppInstances(p Page) ([]AppInstance, error)
	// GetRetentionSettings returns nil, nil when the AppInstance has no
	// settings, and ErrNotFound when it does not exist.
	GetRetentionSettings(appInstanceARN string) (*RetentionSettings, error)
	// PutRetentionSettings sets (or, with nil, clears) the settings.
	PutRetentionSettings(appInstanceARN string, s *RetentionSettings) error

	CreateUser(u *AppInstanceUser) error
	GetUser(arn string) (*AppInstanceUser, error)
	// UpdateUser replaces Name, Metadata, Expiration and Updated.
	UpdateUser(u *AppInstanceUser) error
	// DeleteUser deletes the user, its endpoints, admin role, tags and
	// access keys.
	DeleteUser(arn string) error
	// ListUsers pages by ARN through an AppInstance's users.
	ListUsers(appInstanceARN string, p Page) ([]AppInstanceUser, error)

	CreateBot(b *AppInstanceBot) error
	GetBot(arn string) (*AppInstanceBot, error)
	// UpdateBot replaces Name, Metadata, Lex and Updated.
	UpdateBot(b *AppInstanceBot) error
	// DeleteBot deletes the bot, its admin role, tags and access keys.
	DeleteBot(arn string) error
	ListBots(appInstanceARN string, p Page) ([]AppInstanceBot, error)

	// CreateAdmin: ErrExists if adminARN already administers the AppInstance.
	CreateAdmin(a *AppInstanceAdmin) error
	GetAdmin(appInstanceARN, adminARN string) (*AppInstanceAdmin, error)
	DeleteAdmin(appInstanceARN, adminARN string) error
	// ListAdmins pages by admin ARN.
	ListAdmins(appInstanceARN string, p Page) ([]AppInstanceAdmin, error)
	CountAdmins(appInstanceARN string) (int, error)

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

// TagTx stores tags keyed by resource ARN, for every resource type.
type TagTx interface {
	// Tags returns a resource's tags sorted by key.
	Tags(resourceARN string) ([]Tag, error)
	// PutTags adds tags, replacing the values of existing keys.
	PutTags(resourceARN string, tags []Tag) error
	// DeleteTags removes the given keys; absent keys are ignored.
	DeleteTags(resourceARN string, keys []string) error
}

// IdempotencyTx remembers the result of a request made with a client
// token, so that a retry returns the first result.
type IdempotencyTx interface {
	// Idempotent returns the result stored for (scope, token).
	Idempotent(scope, token string) (result string, found bool, err error)
	// PutIdempotent stores a result; an existing one is kept.
	PutIdempotent(scope, token, result string) error
	// DeleteIdempotentBefore deletes up to limit results stored before
	// t, the oldest first, and returns how many it deleted: idempotency
	// tokens expire.
	DeleteIdempotentBefore(t time.Time, limit int) (int, error)
}

// AccessKeyTx stores per-user access keys.
type AccessKeyTx interface {
	CreateAccessKey(k *AccessKey) error
	GetAccessKey(id string) (*AccessKey, error)
	DeleteAccessKey(id string) error
	// ListAccessKeys lists the keys bound to a bearer.
	ListAccessKeys(bearer string) ([]AccessKey, error)
}

// Event is a change announced to clients, written to the outbox in the
// transaction that makes the change and published after it commits.
type Event struct {
	Seq int64 // assigned by the store, increasing in commit order
	At  time.Time
	// Type is the websocket event type, e.g. CREATE_CHANNEL_MESSAGE.
	Type string
	// Channel is the channel ARN the event belongs to ("" for none).
	Channel string
	// ToMembers delivers the event to every member of Channel, as the
	// membership stands at this event in commit order. Storing the
	// audience rather than a list keeps an event of a channel of 100,000
	// members one small row.
	ToMembers bool
	// Recipients are bearer ARNs the event is delivered to, besides the
	// members when ToMembers is set (a removed member), or instead of
	// them (a targeted message: its sender and target).
	Recipients []string
	// Member and MemberChange describe a membership the event creates
	// (+1) or removes (-1), so that deliverers keep their view of the
	// channel's members in step with the events they deliver.
	Member       string
	MemberChange int
	// MessageType is the x-amz-chime-message-type: STANDARD, CONTROL or SYSTEM.
	MessageType string
	// Reason is the x-amz-chime-event-reason header, usually "".
	Reason string
	// Payload is the JSON payload as the client receives it.
	Payload []byte
}

// EventBearerDeleted is the event of an AppInstanceUser's or bot's
// deletion (DeleteAppInstanceUser, DeleteAppInstanceBot, expiry), or of
// an AppInstance's with all its users and bots (DeleteAppInstance), with
// Member the deleted ARN and no audience: whoever delivers drops what it
// holds for those bearers (the hub closes their sessions), in commit
// order.
const EventBearerDeleted = "CARILLON_BEARER_DELETED"

// EventAccessKeyDeleted is the event of a per-user access key's deletion,
// with Member the access key id and no audience: the hub closes the
// messaging sessions the key opened, in commit order.
const EventAccessKeyDeleted = "CARILLON_ACCESS_KEY_DELETED"

// OutboxTx is the transactional outbox.
type OutboxTx interface {
	// AppendEvent adds an event; the store assigns Seq and At.
	AppendEvent(e *Event) error
	// Events returns up to limit events with Seq > after, in Seq order
	// (limit <= 0: all of them). An engine must never expose an event
	// whose Seq is below one already returned: Seq order is commit order.
	Events(after int64, limit int) ([]Event, error)
	// LastEventSeq is the Seq of the newest event, 0 when there is none
	// yet (deleted events count: Seq is never reused).
	LastEventSeq() (int64, error)
	// DeleteEventsThrough removes events with Seq <= seq.
	DeleteEventsThrough(seq int64) error
}
