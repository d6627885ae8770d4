package stream

import (
	"context"
	"errors"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// The streaming configurations of an AppInstance: which of its events go
// to which stream. The operations carry no bearer: only the root
// credentials may call them (the key gate of package server), as only
// developers may in AWS.

// Bind sets the streaming configuration operations on the messaging
// handlers. Put and Delete have the exporter read the configurations again
// at once.
func (x *Exporter) Bind(h *messagingapi.Handlers) {
	h.PutMessagingStreamingConfigurations = func(ctx context.Context, in *messagingapi.PutMessagingStreamingConfigurationsRequest) (*messagingapi.PutMessagingStreamingConfigurationsResponse, error) {
		out, err := x.PutMessagingStreamingConfigurations(ctx, in)
		x.Resync()
		return out, err
	}
	h.GetMessagingStreamingConfigurations = x.GetMessagingStreamingConfigurations
	h.DeleteMessagingStreamingConfigurations = func(ctx context.Context, in *messagingapi.DeleteMessagingStreamingConfigurationsRequest) error {
		err := x.DeleteMessagingStreamingConfigurations(ctx, in)
		x.Resync()
		return err
	}
}

// PutMessagingStreamingConfigurations replaces the AppInstance's
// configurations. Each ResourceArn must map to a sink (Check): a Kinesis
// data stream, or an ARN mapped to another sink.
func (x *Exporter) PutMessagingStreamingConfigurations(ctx context.Context, in *messagingapi.PutMessagingStreamingConfigurationsRequest) (*messagingapi.PutMessagingStreamingConfigurationsResponse, error) {
	app := *in.AppInstanceArn
	seen := map[string]bool{}
	for _, c := range in.StreamingConfigurations {
		dt, arn := string(api.Deref(c.DataType)), api.Deref(c.ResourceArn)
		if seen[dt] {
			return nil, carillon.Errorf(carillon.BadRequest, "The DataType %s is configured more than once", dt)
		}
		seen[dt] = true
		if err := x.Check(arn); err != nil {
			return nil, carillon.Errorf(carillon.BadRequest, "The ResourceArn %s is not a stream this server can export to: %v", arn, err)
		}
	}
	err := x.store.Update(ctx, func(tx carillon.Tx) error {
		if err := requireAppInstance(tx, app, carillon.NotFound); err != nil {
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
func (x *Exporter) GetMessagingStreamingConfigurations(ctx context.Context, in *messagingapi.GetMessagingStreamingConfigurationsRequest) (*messagingapi.GetMessagingStreamingConfigurationsResponse, error) {
	app := *in.AppInstanceArn
	var cs []carillon.StreamingConfiguration
	err := x.store.View(ctx, func(tx carillon.Tx) error {
		if err := requireAppInstance(tx, app, carillon.NotFound); err != nil {
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
func (x *Exporter) DeleteMessagingStreamingConfigurations(ctx context.Context, in *messagingapi.DeleteMessagingStreamingConfigurationsRequest) error {
	app := *in.AppInstanceArn
	return x.store.Update(ctx, func(tx carillon.Tx) error {
		if err := requireAppInstance(tx, app, carillon.Forbidden); err != nil {
			return err
		}
		return tx.DeleteStreamingConfigurations(app)
	})
}

// requireAppInstance answers an error of kind missing when the AppInstance
// does not exist.
func requireAppInstance(tx carillon.Tx, app string, missing carillon.Kind) error {
	_, err := tx.GetAppInstance(app)
	if errors.Is(err, carillon.ErrNotFound) {
		return carillon.Errorf(missing, "The AppInstance %s does not exist", app)
	}
	return err
}
