// Package tagging implements TagResource, UntagResource and
// ListTagsForResource, which both Chime SDK models define identically on
// the same routes. One tag store keyed by ARN serves every resource type;
// the resource's existence is checked by the Resolver of its service.
package tagging

import (
	"context"
	"errors"
	"strings"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/identityapi"
)

// MaxTagsPerResource is the model's limit on a Tags list, which AWS also
// applies to the tags a resource holds.
const MaxTagsPerResource = 50

// Resolver reports whether a resource exists. Each service registers one
// for the resource types it owns.
type Resolver func(tx carillon.Tx, r carillon.Resource) (bool, error)

// Service implements the tagging operations.
type Service struct {
	store     carillon.Store
	resolvers map[carillon.ResourceType]Resolver
}

// New returns a tagging service; register resolvers before serving.
func New(store carillon.Store) *Service {
	s := &Service{store: store, resolvers: map[carillon.ResourceType]Resolver{}}
	s.Register(carillon.TypeAppInstance, func(tx carillon.Tx, r carillon.Resource) (bool, error) {
		return exists(tx.GetAppInstance(r.String()))
	})
	s.Register(carillon.TypeUser, func(tx carillon.Tx, r carillon.Resource) (bool, error) {
		return exists(tx.GetUser(r.String()))
	})
	s.Register(carillon.TypeBot, func(tx carillon.Tx, r carillon.Resource) (bool, error) {
		return exists(tx.GetBot(r.String()))
	})
	return s
}

// Register sets the resolver of a resource type.
func (s *Service) Register(t carillon.ResourceType, fn Resolver) { s.resolvers[t] = fn }

func exists[T any](_ T, err error) (bool, error) {
	if errors.Is(err, carillon.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Bind sets the tagging operations on the identity handlers; the router
// serves the messaging model's identical routes with them.
func (s *Service) Bind(h *identityapi.Handlers) {
	h.TagResource = s.TagResource
	h.UntagResource = s.UntagResource
	h.ListTagsForResource = s.ListTagsForResource
}

func (s *Service) check(tx carillon.Tx, arn string) error {
	r, ok := carillon.ParseResource(arn)
	if !ok {
		return carillon.Errorf(carillon.BadRequest, "%s is not the ARN of a taggable Chime resource", arn)
	}
	resolve := s.resolvers[r.Type]
	if resolve == nil {
		return carillon.Errorf(carillon.BadRequest, "Resources of type %s cannot be tagged", r.Type)
	}
	ok, err := resolve(tx, r)
	if err != nil {
		return err
	}
	if !ok {
		return carillon.Errorf(carillon.Forbidden, "Resource %s does not exist or is not accessible", arn)
	}
	return nil
}

// TagResource adds tags to a resource, replacing the values of keys it
// already has.
func (s *Service) TagResource(ctx context.Context, in *identityapi.TagResourceRequest) error {
	tags := make([]carillon.Tag, len(in.Tags))
	seen := make(map[string]bool, len(in.Tags))
	for i, t := range in.Tags {
		tags[i] = carillon.Tag{Key: api.Deref(t.Key), Value: api.Deref(t.Value)}
		seen[tags[i].Key] = true
	}
	if err := CheckTags(tags); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx carillon.Tx) error {
		if err := s.check(tx, *in.ResourceARN); err != nil {
			return err
		}
		current, err := tx.Tags(*in.ResourceARN)
		if err != nil {
			return err
		}
		total := len(current)
		for _, t := range current {
			if seen[t.Key] {
				total--
			}
		}
		if total+len(tags) > MaxTagsPerResource {
			return carillon.Errorf(carillon.ResourceLimitExceeded, "A resource can have at most %d tags", MaxTagsPerResource)
		}
		return tx.PutTags(*in.ResourceARN, tags)
	})
}

// WireTag is the Tag shape both models define identically; From accepts
// either package's Tag through it.
type WireTag = struct {
	Key   *string `json:"Key,omitzero"`
	Value *string `json:"Value,omitzero"`
}

// From converts the Tags of a request, of either model, to domain tags;
// nil for none.
func From[T ~WireTag](in []T) []carillon.Tag {
	if len(in) == 0 {
		return nil
	}
	out := make([]carillon.Tag, len(in))
	for i, t := range in {
		w := WireTag(t)
		out[i] = carillon.Tag{Key: api.Deref(w.Key), Value: api.Deref(w.Value)}
	}
	return out
}

// CheckTags applies the rules the model cannot express: no key AWS
// reserves for itself ("aws:…"), no key twice.
func CheckTags(tags []carillon.Tag) error {
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if len(t.Key) >= 4 && strings.EqualFold(t.Key[:4], "aws:") {
			return carillon.Errorf(carillon.BadRequest, "Tag keys beginning with 'aws:' are reserved")
		}
		if seen[t.Key] {
			return carillon.Errorf(carillon.BadRequest, "Duplicate tag key '%s'", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// UntagResource removes tags by key; keys the resource lacks are ignored.
func (s *Service) UntagResource(ctx context.Context, in *identityapi.UntagResourceRequest) error {
	return s.store.Update(ctx, func(tx carillon.Tx) error {
		if err := s.check(tx, *in.ResourceARN); err != nil {
			return err
		}
		return tx.DeleteTags(*in.ResourceARN, in.TagKeys)
	})
}

// ListTagsForResource returns a resource's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *identityapi.ListTagsForResourceRequest) (*identityapi.ListTagsForResourceResponse, error) {
	var tags []carillon.Tag
	err := s.store.View(ctx, func(tx carillon.Tx) error {
		if err := s.check(tx, *in.ResourceARN); err != nil {
			return err
		}
		var err error
		tags, err = tx.Tags(*in.ResourceARN)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &identityapi.ListTagsForResourceResponse{Tags: make([]identityapi.Tag, len(tags))}
	for i, t := range tags {
		out.Tags[i] = identityapi.Tag{Key: api.String(t.Key), Value: api.String(t.Value)}
	}
	return out, nil
}
