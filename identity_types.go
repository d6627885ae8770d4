package carillon

import "time"

// AppInstance is the top-level container of users, bots, channels and
// flows; every other resource's ARN starts with its ARN.
type AppInstance struct {
	ARN      string
	Name     string
	Metadata string
	Created  time.Time
	Updated  time.Time
}

// RetentionSettings is an AppInstance's message retention. ChannelDays 0
// means messages are kept forever.
type RetentionSettings struct {
	ChannelDays int
	// InitiatedAt is when the current setting started to apply.
	InitiatedAt time.Time
}

// ExpirationSettings schedules the deletion of a user or a channel. A nil
// *ExpirationSettings means the resource does not expire.
type ExpirationSettings struct {
	Days      int
	Criterion string // CREATED_TIMESTAMP or LAST_MESSAGE_TIMESTAMP
}

// AppInstanceUser is a user of an AppInstance; its ARN ends in
// /user/{AppInstanceUserId}.
type AppInstanceUser struct {
	ARN            string
	AppInstanceARN string
	Name           string
	Metadata       string
	Expiration     *ExpirationSettings
	Created        time.Time
	Updated        time.Time
}

// AppInstanceBot is a bot of an AppInstance, answering through Amazon Lex.
type AppInstanceBot struct {
	ARN            string
	AppInstanceARN string
	Name           string
	Metadata       string
	Lex            LexConfiguration
	Created        time.Time
	Updated        time.Time
}

// LexConfiguration is how a bot reaches its Lex V2 bot (package bots calls
// it).
type LexConfiguration struct {
	LexBotAliasARN string
	LocaleID       string
	RespondsTo     string // deprecated by the model in favour of InvokedBy
	WelcomeIntent  string
	InvokedBy      *InvokedBy
}

// InvokedBy says which messages invoke a bot.
type InvokedBy struct {
	StandardMessages string // AUTO, ALL, MENTIONS or NONE
	TargetedMessages string // ALL or NONE
}

// AppInstanceAdmin promotes a user or bot to administer an AppInstance.
type AppInstanceAdmin struct {
	AppInstanceARN string
	AdminARN       string
	Created        time.Time
}

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

// Tag is a key and value attached to a resource ARN.
type Tag struct {
	Key, Value string
}

// AccessKey is a per-user credential: it may act only as Bearer.
type AccessKey struct {
	ID        string
	Secret    string
	Bearer    string
	Expires   time.Time // zero: never
	Created   time.Time
	SessionID string // reserved for temporary keys; "" for long-lived ones
}
