package stream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/carillonhq/carillon/internal/awsconf"
	"github.com/carillonhq/carillon/webhook"
)

// Sink delivers records to one stream.
type Sink interface {
	// Put delivers entries, in order. It returns how many of the first
	// entries the stream acknowledged: all of them, or fewer with the
	// error that stopped it. Entries after the first one not
	// acknowledged may have been delivered too; the exporter sends them
	// again, so a consumer may see a record more than once.
	Put(ctx context.Context, entries []Entry) (int, error)
	// Close releases the sink's connections.
	Close() error
}

// Headers of the webhook and NATS sinks.
const (
	// HeaderStream names the ResourceArn the records were exported to.
	HeaderStream = "X-Carillon-Stream"
	// HeaderMsgID is JetStream's deduplication header: the record's
	// Entry.ID.
	HeaderMsgID = "Nats-Msg-Id"
	// HeaderEventType is the record's EventType, on NATS messages.
	HeaderEventType = "X-Carillon-Event-Type"
)

// Kinesis limits of one PutRecords call.
const (
	kinesisMaxRecords = 500
	kinesisMaxBytes   = 5 << 20
)

// kinesisSink puts records to a Kinesis data stream with PutRecords, the
// channel ARN as the partition key.
type kinesisSink struct {
	client *kinesis.Client
	stream string
	region string
}

func (k *kinesisSink) Put(ctx context.Context, entries []Entry) (int, error) {
	done := 0
	for done < len(entries) {
		var records []ktypes.PutRecordsRequestEntry
		size := 0
		for _, e := range entries[done:] {
			n := len(e.Data) + len(e.Channel)
			if len(records) == kinesisMaxRecords || (len(records) > 0 && size+n > kinesisMaxBytes) {
				break
			}
			records = append(records, ktypes.PutRecordsRequestEntry{Data: e.Data, PartitionKey: aws.String(PartitionKey(e.Channel))})
			size += n
		}
		out, err := k.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(k.stream), Records: records},
			func(o *kinesis.Options) { o.Region = k.region })
		if err != nil {
			return done, err
		}
		// PutRecords goes on after a failed record: the first failure
		// is where the exporter starts again, never skipping one.
		for i, r := range out.Records {
			if r.ErrorCode != nil {
				return done + i, fmt.Errorf("kinesis PutRecords: record %d: %s: %s", done+i, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
			}
		}
		if len(out.Records) != len(records) {
			return done, fmt.Errorf("kinesis PutRecords: %d results for %d records", len(out.Records), len(records))
		}
		done += len(records)
	}
	return done, nil
}

func (k *kinesisSink) Close() error { return nil }

// PartitionKey is the Kinesis partition key of a channel's records: its
// ARN, or, past Kinesis's 256 characters, the ARN's SHA-256 in hex.
func PartitionKey(channel string) string {
	if len(channel) <= 256 {
		return channel
	}
	sum := sha256.Sum256([]byte(channel))
	return hex.EncodeToString(sum[:])
}

// webhookSink POSTs the records as a JSON array.
type webhookSink struct {
	client webhook.Client
	url    string
}

func newWebhookSink(opts Options, url, arn string) *webhookSink {
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	return &webhookSink{client: webhook.Client{
		HTTP: client, Secret: opts.WebhookSecret, UserAgent: "Carillon streaming export",
		Header: http.Header{HeaderStream: {arn}},
	}, url: url}
}

// webhookMaxRecords bounds the records of one webhook request.
const webhookMaxRecords = 500

func (w *webhookSink) Put(ctx context.Context, entries []Entry) (int, error) {
	done := 0
	for done < len(entries) {
		n := min(len(entries)-done, webhookMaxRecords)
		if err := w.post(ctx, entries[done:done+n]); err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

// post POSTs one request; any 2xx answer acknowledges all its records.
func (w *webhookSink) post(ctx context.Context, entries []Entry) error {
	var body bytes.Buffer
	body.WriteByte('[')
	for i, e := range entries {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(e.Data)
	}
	body.WriteByte(']')
	answer, err := w.client.Post(ctx, w.url, body.Bytes())
	switch {
	case answer == nil:
		return err
	case !answer.OK():
		return fmt.Errorf("webhook %s answered %s", w.url, answer.Status)
	}
	return nil
}

func (w *webhookSink) Close() error { return nil }

// natsSink publishes each record as a message on a subject. Core NATS
// acknowledges nothing: a batch counts as delivered once a flush (a
// round trip) shows the server has it. With JetStream each message is
// acknowledged by the stream that stores it.
type natsSink struct {
	nc      *nats.Conn
	js      jetstream.JetStream // nil: core NATS
	subject string
	arn     string
}

func (n *natsSink) Put(ctx context.Context, entries []Entry) (int, error) {
	for i, e := range entries {
		m := nats.NewMsg(n.subject)
		m.Data = e.Data
		m.Header.Set(HeaderMsgID, e.ID)
		m.Header.Set(HeaderEventType, e.Type)
		m.Header.Set(HeaderStream, n.arn)
		if n.js != nil {
			if _, err := n.js.PublishMsg(ctx, m); err != nil {
				return i, err
			}
			continue
		}
		if err := n.nc.PublishMsg(m); err != nil {
			// What was published before may or may not have reached
			// the server: none of it counts.
			return 0, err
		}
	}
	if n.js == nil {
		if err := n.nc.FlushWithContext(ctx); err != nil {
			return 0, err
		}
	}
	return len(entries), nil
}

func (n *natsSink) Close() error {
	n.nc.Close()
	return nil
}

// Sinks resolves ResourceArns to sinks: the ARNs mapped to URLs first,
// then Kinesis data stream ARNs.
type Sinks struct {
	opts Options

	mu      sync.Mutex
	kinesis *kinesis.Client
}

// NewSinks returns the resolver of opts.
func NewSinks(opts Options) *Sinks { return &Sinks{opts: opts} }

// Check tells whether resourceARN maps to a sink: an error says why not.
func (s *Sinks) Check(resourceARN string) error {
	if u, ok := s.opts.Sinks[resourceARN]; ok {
		_, err := parseSinkURL(u)
		return err
	}
	if _, _, _, ok := parseKinesisStreamARN(resourceARN); ok {
		return nil
	}
	return errors.New("it is neither a Kinesis data stream ARN nor an ARN mapped to a sink (--stream-sink)")
}

// sinkURL is a parsed URL of a mapped sink.
type sinkURL struct {
	kind      string // "webhook" or "nats"
	url       string // the webhook's URL; the NATS server's
	subject   string
	jetstream bool
}

func parseSinkURL(raw string) (sinkURL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return sinkURL{}, fmt.Errorf("sink URL %q: %w", raw, err)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return sinkURL{}, fmt.Errorf("sink URL %q has no host", raw)
		}
		return sinkURL{kind: "webhook", url: raw}, nil
	case "nats", "tls":
		subject := strings.TrimPrefix(u.Path, "/")
		if u.Host == "" || subject == "" || strings.ContainsAny(subject, " \t\r\n/*>") {
			return sinkURL{}, fmt.Errorf("sink URL %q must be nats://host:port/subject, with a subject without wildcards", raw)
		}
		js := u.Query().Get("jetstream")
		server := *u
		server.Path, server.RawQuery = "", ""
		return sinkURL{kind: "nats", url: server.String(), subject: subject, jetstream: js == "true" || js == "1"}, nil
	}
	return sinkURL{}, fmt.Errorf("sink URL %q: the scheme must be http, https or nats", raw)
}

// Open returns the sink of resourceARN.
func (s *Sinks) Open(ctx context.Context, resourceARN string) (Sink, error) {
	if raw, ok := s.opts.Sinks[resourceARN]; ok {
		u, err := parseSinkURL(raw)
		if err != nil {
			return nil, err
		}
		if u.kind == "webhook" {
			return newWebhookSink(s.opts, u.url, resourceARN), nil
		}
		return openNATS(u, resourceARN)
	}
	region, _, name, ok := parseKinesisStreamARN(resourceARN)
	if !ok {
		return nil, fmt.Errorf("%s maps to no sink", resourceARN)
	}
	client, err := s.kinesisClient(ctx)
	if err != nil {
		return nil, err
	}
	return &kinesisSink{client: client, stream: name, region: region}, nil
}

func openNATS(u sinkURL, arn string) (Sink, error) {
	nc, err := nats.Connect(u.url,
		nats.Name("carillon streaming export"),
		// Publishing while disconnected must fail, not wait in a
		// buffer that a restart would lose: the exporter retries.
		nats.ReconnectBufSize(-1),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
	)
	if err != nil {
		return nil, err
	}
	sink := &natsSink{nc: nc, subject: u.subject, arn: arn}
	if u.jetstream {
		if sink.js, err = jetstream.New(nc); err != nil {
			nc.Close()
			return nil, err
		}
	}
	return sink, nil
}

// kinesisClient is the one Kinesis client of every Kinesis sink, made on
// first use: its credentials come from Options.AWSConfig or the standard
// chain, its endpoint from Options.KinesisEndpoint, and each call's region
// from the stream's ARN.
func (s *Sinks) kinesisClient(ctx context.Context) (*kinesis.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kinesis != nil {
		return s.kinesis, nil
	}
	cfg, err := awsconf.Load(ctx, s.opts.AWSConfig)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration for Kinesis: %w", err)
	}
	s.kinesis = kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		if s.opts.KinesisEndpoint != "" {
			o.BaseEndpoint = aws.String(s.opts.KinesisEndpoint)
		}
		// The exporter retries, with its own backoff, from the first
		// record not acknowledged.
		o.RetryMaxAttempts = 1
	})
	return s.kinesis, nil
}

// parseKinesisStreamARN splits the ARN of a Kinesis data stream,
// arn:<partition>:kinesis:<region>:<account>:stream/<name>.
func parseKinesisStreamARN(arn string) (region, account, name string, ok bool) {
	m := kinesisStreamARN.FindStringSubmatch(arn)
	if m == nil {
		return "", "", "", false
	}
	return m[1], m[2], m[3], true
}

var kinesisStreamARN = regexp.MustCompile(`^arn:aws[a-z-]*:kinesis:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):stream/([A-Za-z0-9_.-]{1,128})$`)
