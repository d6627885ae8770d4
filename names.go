package carillon

import "errors"

// NameOf returns the name of the user or bot arn names, read in tx; "" when
// arn is neither or no longer exists. Responses carry names beside ARNs
// (Identity{Arn, Name}) in both services.
func NameOf(tx Tx, arn string) (string, error) {
	r, ok := ParseResource(arn)
	if !ok {
		return "", nil
	}
	var name string
	var err error
	switch r.Type {
	case TypeUser:
		var u *AppInstanceUser
		if u, err = tx.GetUser(arn); err == nil {
			name = u.Name
		}
	case TypeBot:
		var b *AppInstanceBot
		if b, err = tx.GetBot(arn); err == nil {
			name = b.Name
		}
	}
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return name, err
}
