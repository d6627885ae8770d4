package carillon

import (
	"strings"
)

// ResourceType is the kind of Chime resource an ARN names.
type ResourceType string

// The resource types of the chime service prefix that Carillon serves.
const (
	TypeAppInstance ResourceType = "app-instance"
	TypeUser        ResourceType = "user"
	TypeBot         ResourceType = "bot"
	TypeChannel     ResourceType = "channel"
	TypeChannelFlow ResourceType = "channel-flow"
)

// Resource is a parsed Chime ARN:
//
//	arn:{partition}:chime:{region}:{account}:app-instance/{AppInstanceID}[/{type}/{ID}]
//
// Every resource lives under its AppInstance, which is what lets deleting an
// AppInstance remove everything whose ARN starts with its own.
type Resource struct {
	Partition, Region, Account string
	AppInstanceID              string
	Type                       ResourceType // TypeAppInstance for the AppInstance itself
	ID                         string       // the child's id; "" for an AppInstance
}

// ParseResource parses a Chime resource ARN. ok is false for anything that
// is not one of the resource types above.
func ParseResource(arn string) (r Resource, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "chime" || parts[1] == "" {
		return Resource{}, false
	}
	r.Partition, r.Region, r.Account = parts[1], parts[3], parts[4]
	segs := strings.Split(parts[5], "/")
	if segs[0] != string(TypeAppInstance) || len(segs) < 2 || segs[1] == "" {
		return Resource{}, false
	}
	r.AppInstanceID = segs[1]
	switch len(segs) {
	case 2:
		r.Type = TypeAppInstance
		return r, true
	case 4:
		switch t := ResourceType(segs[2]); t {
		case TypeUser, TypeBot, TypeChannel, TypeChannelFlow:
			if segs[3] == "" {
				return Resource{}, false
			}
			r.Type, r.ID = t, segs[3]
			return r, true
		}
	}
	return Resource{}, false
}

// AppInstanceARN returns the ARN of the resource's AppInstance.
func (r Resource) AppInstanceARN() string {
	return "arn:" + r.Partition + ":chime:" + r.Region + ":" + r.Account + ":app-instance/" + r.AppInstanceID
}

// String formats the ARN.
func (r Resource) String() string {
	if r.Type == TypeAppInstance || r.Type == "" {
		return r.AppInstanceARN()
	}
	return r.AppInstanceARN() + "/" + string(r.Type) + "/" + r.ID
}

// ARNs formats the ARNs of one deployment: its partition, region and
// account are fixed by configuration.
type ARNs struct {
	Partition, Region, Account string
}

// AppInstance formats the ARN of an AppInstance.
func (a ARNs) AppInstance(id string) string {
	return Resource{Partition: a.Partition, Region: a.Region, Account: a.Account, AppInstanceID: id, Type: TypeAppInstance}.String()
}

// Child formats the ARN of a resource under an AppInstance ARN.
func (a ARNs) Child(appInstanceARN string, t ResourceType, id string) string {
	return appInstanceARN + "/" + string(t) + "/" + id
}

// Owns reports whether the resource ARN r belongs to this deployment.
func (a ARNs) Owns(r Resource) bool {
	return r.Partition == a.Partition && r.Region == a.Region && r.Account == a.Account
}
