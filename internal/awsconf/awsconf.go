// Package awsconf gives the AWS clients Carillon makes (Lambda for channel
// flows, Kinesis for the streaming export, Pinpoint for push
// notifications) their configuration.
package awsconf

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Load returns a copy of cfg, or, when cfg is nil, the configuration of
// the standard AWS chain (environment, shared files, instance roles).
func Load(ctx context.Context, cfg *aws.Config) (aws.Config, error) {
	if cfg != nil {
		return cfg.Copy(), nil
	}
	return config.LoadDefaultConfig(ctx)
}
