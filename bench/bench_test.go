// Package bench holds Carillon's benchmarks that span packages: signed
// API round trips through a real SDK client and server (Identity writes
// and reads, SendChannelMessage, ListChannelMessages in a channel of a
// thousand and of a million messages, joins to regular and elastic
// channels), what the background parts add to them (channel flows, the
// streaming export, push notifications, expiry while the API is busy),
// the hot channel operations with the store cache and without it,
// and SigV4 verification on its own, so that the cost of the signature is
// seen against the cost of the whole request. Each reports its figures
// against a baseline measured in the same run. The websocket load tool is in bench/load; the figures
// and how to reproduce them are in docs/benchmarks.md.
//
//	go test -run=^$ -bench=. -benchmem ./bench/
package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/sigv4"
)

// createApp creates an AppInstance through client and, in it, a user of
// each id given (named after it), and returns their ARNs: the setup of
// most benchmarks, untimed.
func createApp(b *testing.B, client *chimesdkidentity.Client, userIDs ...string) (app string, users []string) {
	b.Helper()
	ctx := context.Background()
	out, err := client.CreateAppInstance(ctx, &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range userIDs {
		u, err := client.CreateAppInstanceUser(ctx, &chimesdkidentity.CreateAppInstanceUserInput{
			AppInstanceArn: out.AppInstanceArn, AppInstanceUserId: aws.String(id), Name: aws.String("User " + id),
		})
		if err != nil {
			b.Fatal(err)
		}
		users = append(users, aws.ToString(u.AppInstanceUserArn))
	}
	return aws.ToString(out.AppInstanceArn), users
}

// BenchmarkCreateAppInstanceUser is one CreateAppInstanceUser through the
// Go SDK: sign, send over loopback, verify, validate, write to SQLite,
// answer, parse.
func BenchmarkCreateAppInstanceUser(b *testing.B) {
	srv := carillontest.New(b)
	ctx := context.Background()
	client := chimesdkidentity.NewFromConfig(srv.Config)
	app, _ := createApp(b, client)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := client.CreateAppInstanceUser(ctx, &chimesdkidentity.CreateAppInstanceUserInput{
			AppInstanceArn:    aws.String(app),
			AppInstanceUserId: aws.String(fmt.Sprintf("user-%d", i)),
			Name:              aws.String("Bench User"),
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDescribeAppInstanceUser is a read round trip, for comparison.
func BenchmarkDescribeAppInstanceUser(b *testing.B) {
	srv := carillontest.New(b)
	ctx := context.Background()
	client := chimesdkidentity.NewFromConfig(srv.Config)
	_, users := createApp(b, client, "u")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := client.DescribeAppInstanceUser(ctx, &chimesdkidentity.DescribeAppInstanceUserInput{
			AppInstanceUserArn: aws.String(users[0]),
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSigV4Verify verifies the signature of a CreateAppInstanceUser
// request as the server receives it, without any other work.
func BenchmarkSigV4Verify(b *testing.B) {
	const key, secret = "CKIABENCHBENCHBENCH0", "secretsecretsecretsecretsecretsecret0000"
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	body := []byte(`{"AppInstanceArn":"arn:aws:chime:us-east-1:000000000000:app-instance/6f1d0f3c-6b8e-4a43-9c1e-0b5d2a7e4f11","AppInstanceUserId":"user-1","ClientRequestToken":"2b1f3c1e-5d7a-4b8e-9f0c-1a2b3c4d5e6f","Name":"Bench User"}`)
	req, err := http.NewRequest("POST", "http://127.0.0.1:8080/app-instance-users", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "chime", "us-east-1", now); err != nil {
		b.Fatal(err)
	}
	req.Host = req.URL.Host
	v := &sigv4.Verifier{Service: "chime", Region: "us-east-1", Now: func() time.Time { return now },
		Credentials: sigv4.StaticCredentials{key: {AccessKeyID: key, SecretAccessKey: secret}}}
	if _, err := v.VerifyRequest(req, body); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.VerifyRequest(req, body); err != nil {
			b.Fatal(err)
		}
	}
}
