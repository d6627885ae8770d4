package carillon

import "time"

// AppInstanceAdmin promotes a user or bot to administer an AppInstance.
type AppInstanceAdmin struct {
	AppInstanceARN string
	AdminARN       string
	Created        time.Time
}

// AdminTx stores AppInstanceAdmins.
type AdminTx interface {
	// CreateAdmin: ErrExists if adminARN already administers the AppInstance.
	CreateAdmin(a *AppInstanceAdmin) error
	GetAdmin(appInstanceARN, adminARN string) (*AppInstanceAdmin, error)
	DeleteAdmin(appInstanceARN, adminARN string) error
	// ListAdmins pages by admin ARN.
	ListAdmins(appInstanceARN string, p Page) ([]AppInstanceAdmin, error)
	CountAdmins(appInstanceARN string) (int, error)
}
