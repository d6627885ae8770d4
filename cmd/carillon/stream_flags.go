package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/carillonhq/carillon/stream"
)

// streamSinksFlag collects --stream-sink ARN=URL values; its environment
// twin, CARILLON_STREAM_SINKS, is a comma-separated list of them.
type streamSinksFlag []string

func (s *streamSinksFlag) String() string { return strings.Join(*s, ",") }

func (s *streamSinksFlag) Set(v string) error {
	if _, err := stream.ParseSinks([]string{v}); err != nil {
		return err
	}
	*s = append(*s, v)
	return nil
}

// streamFlags defines the flags of the streaming export on fs; the
// function it returns reads them once fs is parsed.
func streamFlags(fs flagSet) (func() (stream.Options, error), error) {
	sinks := &streamSinksFlag{}
	if v := os.Getenv("CARILLON_STREAM_SINKS"); v != "" {
		for item := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(item) == "" {
				continue
			}
			if err := sinks.Set(strings.TrimSpace(item)); err != nil {
				return nil, fmt.Errorf("$CARILLON_STREAM_SINKS: %w", err)
			}
		}
	}
	fs.Var(sinks, "stream-sink", "ARN=URL: export the streaming configurations naming ARN to URL, an HTTP webhook (http[s]://…) or a NATS subject (nats://host:port/subject[?jetstream=true]) instead of Kinesis; repeatable ($CARILLON_STREAM_SINKS, comma-separated)")
	kinesisEndpoint := fs.string("kinesis-endpoint", "", "Kinesis API endpoint URL of the streaming export; credentials come from the standard AWS chain, the region from the stream's ARN (default: AWS's endpoints)")
	webhookSecret := fs.string("stream-webhook-secret", "", "secret that signs the streaming export's webhook requests (X-Carillon-Signature); empty: unsigned")
	return func() (stream.Options, error) {
		m, err := stream.ParseSinks(*sinks)
		if err != nil {
			return stream.Options{}, err
		}
		return stream.Options{Sinks: m, KinesisEndpoint: *kinesisEndpoint, WebhookSecret: *webhookSecret}, nil
	}, nil
}
