package flows

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/carillonhq/carillon/internal/awsconf"
)

// lambdaInvoker invokes processors' Lambda functions asynchronously
// (InvocationType Event), as AWS does for ASYNC processors: the function
// receives the event and calls ChannelFlowCallback.
type lambdaInvoker struct {
	client *lambda.Client
	// transport is the client's, when it is ours to close.
	transport *http.Transport
}

// newLambdaInvoker builds the Lambda client: at endpoint (a base URL, or
// LambdaEndpointAWS for AWS's regional endpoints), with the credentials
// of cfg, or of the standard AWS chain when cfg is nil. Retries are the
// runner's, so the client does not retry.
func newLambdaInvoker(ctx context.Context, endpoint string, cfg *aws.Config) (*lambdaInvoker, error) {
	c, err := awsconf.Load(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration for Lambda: %w", err)
	}
	if cfg == nil {
		c.HTTPClient = nil // ours, below, so that closeIdle can close it
	}
	l := &lambdaInvoker{}
	if c.HTTPClient == nil {
		l.transport = http.DefaultTransport.(*http.Transport).Clone()
		c.HTTPClient = &http.Client{Transport: l.transport}
	}
	l.client = lambda.NewFromConfig(c, func(o *lambda.Options) {
		if endpoint != LambdaEndpointAWS {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.RetryMaxAttempts = 1
	})
	return l, nil
}

func (l *lambdaInvoker) closeIdle() {
	if l.transport != nil {
		l.transport.CloseIdleConnections()
	}
}

// invoke sends the event to the function arn names. The call goes to the
// region of the ARN. Lambda answers 202 once it has queued the event.
func (l *lambdaInvoker) invoke(ctx context.Context, arn string, event []byte) error {
	out, err := l.client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(arn),
		InvocationType: types.InvocationTypeEvent,
		Payload:        event,
	}, func(o *lambda.Options) {
		if r := regionOf(arn); r != "" {
			o.Region = r
		}
	})
	if err != nil {
		return fmt.Errorf("lambda Invoke: %w", err)
	}
	if out.StatusCode < 200 || out.StatusCode >= 300 {
		return fmt.Errorf("lambda Invoke answered %d", out.StatusCode)
	}
	return nil
}

// regionOf returns the region of a Lambda function ARN
// (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]).
func regionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

// functionName returns the NAME[:QUALIFIER] of a Lambda function ARN, and
// the NAME alone.
func functionName(arn string) (withQualifier, name string) {
	_, rest, ok := strings.Cut(arn, ":function:")
	if !ok {
		return arn, arn
	}
	name, _, _ = strings.Cut(rest, ":")
	return rest, name
}
