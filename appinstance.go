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

// AppInstanceTx stores AppInstances and their retention settings.
type AppInstanceTx interface {
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
}
