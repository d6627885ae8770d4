package carillon

// Tag is a key and value attached to a resource ARN.
type Tag struct {
	Key, Value string
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
