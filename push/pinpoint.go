package push

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"

	"github.com/carillonhq/carillon/internal/awsconf"
)

// pinpointSink sends notifications with Amazon Pinpoint's SendMessages,
// one call per application (the endpoints' ResourceArn), to the device
// tokens as addresses.
type pinpointSink struct {
	opts   Options
	mu     sync.Mutex
	client *pinpoint.Client // made on first use
}

func (p *pinpointSink) pinpoint(ctx context.Context) (*pinpoint.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		return p.client, nil
	}
	cfg, err := awsconf.Load(ctx, p.opts.AWSConfig)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration for Pinpoint: %w", err)
	}
	p.client = pinpoint.NewFromConfig(cfg, func(o *pinpoint.Options) {
		if p.opts.PinpointEndpoint != PinpointEndpointAWS {
			o.BaseEndpoint = aws.String(p.opts.PinpointEndpoint)
		}
		o.RetryMaxAttempts = 1 // the Dispatcher retries
	})
	return p.client, nil
}

func (p *pinpointSink) send(ctx context.Context, ns []Notification) (retry []Notification, invalid []invalidEndpoint, err error) {
	client, err := p.pinpoint(ctx)
	if err != nil {
		return ns, nil, err
	}
	byApp := map[string][]Notification{}
	var apps []string
	for _, n := range ns {
		if byApp[n.ResourceArn] == nil {
			apps = append(apps, n.ResourceArn)
		}
		byApp[n.ResourceArn] = append(byApp[n.ResourceArn], n)
	}
	var errs []error
	for _, app := range apps {
		r, inv, err := p.sendApp(ctx, client, app, byApp[app])
		retry, invalid = append(retry, r...), append(invalid, inv...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return retry, invalid, errors.Join(errs...)
}

// sendApp sends the notifications of one Pinpoint application. A missing
// application, or an ARN that names none, invalidates its endpoints
// (INVALID_PINPOINT_ARN); a token Pinpoint reports as a permanent
// failure invalidates its endpoint (INVALID_DEVICE_TOKEN); what failed
// otherwise is tried again.
func (p *pinpointSink) sendApp(ctx context.Context, client *pinpoint.Client, app string, ns []Notification) (retry []Notification, invalid []invalidEndpoint, err error) {
	invalidate := func(reason string, ns ...Notification) {
		for _, n := range ns {
			invalid = append(invalid, invalidEndpoint{user: n.AppInstanceUserArn, id: n.EndpointId, reason: reason})
		}
	}
	region, appID, ok := pinpointApp(app)
	if !ok {
		invalidate("INVALID_PINPOINT_ARN", ns...)
		return nil, invalid, nil
	}
	n0 := ns[0]
	addresses := map[string]types.AddressConfiguration{}
	byToken := map[string]Notification{}
	for _, n := range ns {
		token, channel := addressOf(&n)
		addresses[token] = types.AddressConfiguration{ChannelType: channel}
		byToken[token] = n
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	out, err := client.SendMessages(ctx, &pinpoint.SendMessagesInput{
		ApplicationId: aws.String(appID),
		MessageRequest: &types.MessageRequest{
			Addresses: addresses,
			MessageConfiguration: &types.DirectMessageConfiguration{
				APNSMessage: &types.APNSMessage{Title: nonEmpty(n0.Title), Body: nonEmpty(n0.Body), Data: n0.Data},
				GCMMessage:  &types.GCMMessage{Title: nonEmpty(n0.Title), Body: nonEmpty(n0.Body), Data: n0.Data},
			},
		},
	}, func(o *pinpoint.Options) { o.Region = region })
	var missing *types.NotFoundException
	switch {
	case errors.As(err, &missing):
		invalidate("INVALID_PINPOINT_ARN", ns...)
		return nil, invalid, nil
	case err != nil:
		return ns, nil, fmt.Errorf("pinpoint SendMessages to %s: %w", app, err)
	}
	if out.MessageResponse != nil {
		for token, res := range out.MessageResponse.Result {
			n, ok := byToken[token]
			if !ok {
				continue
			}
			delete(byToken, token)
			switch res.DeliveryStatus {
			case types.DeliveryStatusSuccessful, types.DeliveryStatusDuplicate, types.DeliveryStatusOptOut:
			case types.DeliveryStatusPermanentFailure:
				invalidate("INVALID_DEVICE_TOKEN", n)
			default:
				retry = append(retry, n)
			}
		}
	}
	// An address Pinpoint said nothing of was not sent.
	for _, n := range byToken {
		retry = append(retry, n)
	}
	if len(retry) > 0 {
		err = fmt.Errorf("pinpoint SendMessages to %s: %d addresses not delivered", app, len(retry))
	}
	return retry, invalid, err
}

// addressOf is the address and channel Pinpoint sends a notification to:
// the device token on the endpoint's channel, or, for a VOIP notification
// to an APNs endpoint with a VoIP token, that token on the APNs VoIP
// channel.
func addressOf(n *Notification) (token string, channel types.ChannelType) {
	token, channel = n.DeviceToken, types.ChannelType(n.EndpointType)
	voip := map[types.ChannelType]types.ChannelType{
		types.ChannelTypeApns: types.ChannelTypeApnsVoip, types.ChannelTypeApnsSandbox: types.ChannelTypeApnsVoipSandbox,
	}[channel]
	if n.Type == "VOIP" && n.VoipDeviceToken != "" && voip != "" {
		return n.VoipDeviceToken, voip
	}
	return token, channel
}

// pinpointApp splits a Pinpoint application ARN,
// arn:aws:mobiletargeting:REGION:ACCOUNT:apps/APPLICATION-ID.
func pinpointApp(s string) (region, appID string, ok bool) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "mobiletargeting" || a.Region == "" {
		return "", "", false
	}
	appID, ok = strings.CutPrefix(a.Resource, "apps/")
	return a.Region, appID, ok && appID != "" && !strings.Contains(appID, "/")
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
