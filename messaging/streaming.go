package messaging

import (
	"context"
	"fmt"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// The streaming configurations of an AppInstance: which of its events go
// to which stream (package stream exports them). The operations carry no
// bearer: only the root credentials may call them (the key gate of
// package server), as only developers may in AWS.

// PutMessagingStreamingConfigurations replaces the AppInstance's
// configurations, accepting Kinesis data stream ARNs only; a server that
// maps other ARNs to sinks binds PutMessagingStreamingConfigurationsWith
// instead.
func (s *Service) PutMessagingStreamingConfigurations(ctx context.Context, in *messagingapi.PutMessagingStreamingConfigurationsRequest) (*messagingapi.PutMessagingStreamingConfigurationsResponse, error) {
	return s.putStreaming(ctx, in, KinesisSinksOnly)
}

// KinesisSinksOnly accepts the ARNs of Kinesis data streams.
func KinesisSinksOnly(resourceARN string) error {
	if _, _, _, ok := carillon.ParseKinesisStreamARN(resourceARN); !ok {
		return fmt.Errorf("not a Kinesis data stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>)")
	}
	return nil
}

// PutMessagingStreamingConfigurationsWith is
// PutMessagingStreamingConfigurations where sink decides which
// ResourceArns the server can export to: an error names why it cannot.
func (s *Service) PutMessagingStreamingConfigurationsWith(sink func(resourceARN string) error) func(context.Context, *messagingapi.PutMessagingStreamingConfigurationsRequest) (*messagingapi.PutMessagingStreamingConfigurationsResponse, error) {
	return func(ctx context.Context, in *messagingapi.PutMessagingStreamingConfigurationsRequest) (*messagingapi.PutMessagingStreamingConfigurationsResponse, error) {
		return s.putStreaming(ctx, in, sink)
	}
}

func (s *Service) putStreaming(ctx context.Context, in *messagingapi.PutMessagingStreamingConfigurationsRequest, sink func(string) error) (*messagingapi.PutMessagingStreamingConfigurationsResponse, error) {
	app := *in.AppInstanceArn
	seen := map[string]bool{}
	for _, c := range in.StreamingConfigurations {
		dt, arn := string(api.Deref(c.DataType)), api.Deref(c.ResourceArn)
		if seen[dt] {
			return nil, carillon.Errorf(carillon.BadRequest, "The DataType %s is configured more than once", dt)
		}
		seen[dt] = true
		if err := sink(arn); err != nil {
			return nil, carillon.Errorf(carillon.BadRequest, "The ResourceArn %s is not a stream this server can export to: %v", arn, err)
		}
	}
	err := s.update(ctx, func(tx carillon.Tx) error {
		if _, err := tx.GetAppInstance(app); isNotFound(err) {
			return carillon.Errorf(carillon.NotFound, "The AppInstance %s does not exist", app)
		} else if err != nil {
			return err
		}
		// Only the events after this Put are exported (AWS back-fills
		// nothing), except for a data type that goes on to the same
		// stream: it keeps its place.
		last, err := tx.LastEventSeq()
		if err != nil {
			return err
		}
		existing, err := tx.StreamingConfigurations(app)
		if err != nil {
			return err
		}
		cs := make([]carillon.StreamingConfiguration, 0, len(in.StreamingConfigurations))
		for _, c := range in.StreamingConfigurations {
			sc := carillon.StreamingConfiguration{AppInstanceARN: app, DataType: string(*c.DataType), ResourceARN: *c.ResourceArn, Since: last}
			for _, old := range existing {
				if old.DataType == sc.DataType && old.ResourceARN == sc.ResourceARN {
					sc.Since = old.Since
				}
			}
			cs = append(cs, sc)
		}
		return tx.PutStreamingConfigurations(app, cs)
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.PutMessagingStreamingConfigurationsResponse{StreamingConfigurations: in.StreamingConfigurations}, nil
}

// GetMessagingStreamingConfigurations returns the AppInstance's
// configurations, by DataType. An AppInstance without any answers
// NotFoundException, as a missing one does: the operation models it, and
// there is no configuration to return.
func (s *Service) GetMessagingStreamingConfigurations(ctx context.Context, in *messagingapi.GetMessagingStreamingConfigurationsRequest) (*messagingapi.GetMessagingStreamingConfigurationsResponse, error) {
	app := *in.AppInstanceArn
	var cs []carillon.StreamingConfiguration
	err := s.view(ctx, func(tx carillon.Tx) error {
		if _, err := tx.GetAppInstance(app); isNotFound(err) {
			return carillon.Errorf(carillon.NotFound, "The AppInstance %s does not exist", app)
		} else if err != nil {
			return err
		}
		var err error
		cs, err = tx.StreamingConfigurations(app)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, carillon.Errorf(carillon.NotFound, "The AppInstance %s has no streaming configurations", app)
	}
	out := &messagingapi.GetMessagingStreamingConfigurationsResponse{StreamingConfigurations: make([]messagingapi.StreamingConfiguration, len(cs))}
	for i, c := range cs {
		dt := messagingapi.MessagingDataType(c.DataType)
		out.StreamingConfigurations[i] = messagingapi.StreamingConfiguration{DataType: &dt, ResourceArn: api.String(c.ResourceARN)}
	}
	return out, nil
}

// DeleteMessagingStreamingConfigurations stops the AppInstance's export;
// events not yet exported are not. Deleting when there are none succeeds;
// a missing AppInstance is Forbidden (the operation models no
// NotFoundException).
func (s *Service) DeleteMessagingStreamingConfigurations(ctx context.Context, in *messagingapi.DeleteMessagingStreamingConfigurationsRequest) error {
	app := *in.AppInstanceArn
	return s.update(ctx, func(tx carillon.Tx) error {
		if _, err := tx.GetAppInstance(app); isNotFound(err) {
			return forbidden("The AppInstance %s does not exist", app)
		} else if err != nil {
			return err
		}
		return tx.DeleteStreamingConfigurations(app)
	})
}
