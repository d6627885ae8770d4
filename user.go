package carillon

import "time"

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

// UserTx stores AppInstanceUsers.
type UserTx interface {
	CreateUser(u *AppInstanceUser) error
	GetUser(arn string) (*AppInstanceUser, error)
	// UpdateUser replaces Name, Metadata, Expiration and Updated.
	UpdateUser(u *AppInstanceUser) error
	// DeleteUser deletes the user, its endpoints, admin role, tags and
	// access keys.
	DeleteUser(arn string) error
	// ListUsers pages by ARN through an AppInstance's users.
	ListUsers(appInstanceARN string, p Page) ([]AppInstanceUser, error)
}
