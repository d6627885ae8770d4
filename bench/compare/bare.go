package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/gorilla/websocket"
)

// bareCommand is the argument that makes this program the bare handler
// instead of the comparison: the tool starts itself again with it, so
// that the ceiling runs in a process of its own like the servers.
const bareCommand = "bare-serve"

// serveBare is the bare handler's process: net/http on loopback, plain
// and TLS, answering every POST with 201 and a small JSON body after
// reading the request body — no parsing, no signature check, no work. It
// writes "listening http=ADDR https=ADDR" once it listens.
func serveBare(args []string) int {
	fs := flag.NewFlagSet(bareCommand, flag.ContinueOnError)
	certOut := fs.String("cert-out", "", "where to write the TLS listener's certificate (PEM)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cert, certPEM, err := selfSigned()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		return 1
	}
	if *certOut != "" {
		if err := os.WriteFile(*certOut, certPEM, 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "bare:", err)
			return 1
		}
	}
	answer := []byte(`{"ChannelArn":"arn:aws:chime:us-east-1:000000000000:app-instance/00000000-0000-0000-0000-000000000000/channel/00000000-0000-0000-0000-000000000000","MessageId":"0123456789abcdef0123456789abcdef"}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(answer)
	})
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		return 1
	}
	secure, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		return 1
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	tlsSrv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go func() { _ = srv.Serve(plain) }()
	go func() { _ = tlsSrv.ServeTLS(secure, "", "") }()
	fmt.Printf("listening http=%s https=%s\n", plain.Addr(), secure.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	_ = srv.Close()
	_ = tlsSrv.Close()
	return 0
}

// selfSigned makes a certificate for 127.0.0.1.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "bare"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certPEM, nil
}

// bareSystem is the bare handler as a server under comparison: it takes
// the publishes (Carillon's very requests) and has no sessions.
type bareSystem struct {
	self string   // this program
	pin  []string // the command prefix that pins it, or nothing
	api  string   // "http" or "https", as Carillon's publishes

	dir       string
	proc      *process
	publisher *chimePublisher
	addrs     map[string]string
	tls       *tls.Config
}

func (b *bareSystem) process() *process { return b.proc }

func (b *bareSystem) start(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "carillon-compare-bare-")
	if err != nil {
		return err
	}
	b.dir = dir
	certPath := filepath.Join(dir, "cert.pem")
	argv := append(append([]string{}, b.pin...), b.self, bareCommand, "-cert-out", certPath)
	b.addrs = map[string]string{}
	b.proc, err = startProcess("the bare handler", argv, nil, dir, func(line string) bool {
		rest, ok := strings.CutPrefix(line, "listening ")
		if !ok {
			return false
		}
		for f := range strings.FieldsSeq(rest) {
			if k, v, ok := strings.Cut(f, "="); ok {
				b.addrs[k] = v
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	if err := b.proc.waitReady(ctx, 30*time.Second); err != nil {
		return err
	}
	pemBytes, err := os.ReadFile(certPath)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return errors.New("the bare handler's certificate is not PEM")
	}
	b.tls = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return nil
}

func (b *bareSystem) stop() {
	if b.publisher != nil {
		b.publisher.client.close()
	}
	if b.proc != nil {
		b.proc.stop()
	}
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// prepare makes ARNs shaped like Carillon's, so that the requests are as
// long as the ones Carillon receives.
func (b *bareSystem) prepare(ctx context.Context, subscribers, publishers int) error {
	if subscribers > 0 {
		return errNoSessions
	}
	const app = "arn:aws:chime:us-east-1:000000000000:app-instance/00000000-0000-0000-0000-000000000000"
	bearers := make([]string, publishers)
	for i := range bearers {
		bearers[i] = fmt.Sprintf("%s/user/pub-%05d", app, i)
	}
	creds := aws.Credentials{AccessKeyID: "CKIAAAAAAAAAAAAAAAAA", SecretAccessKey: strings.Repeat("s", 40)}
	var tlsConfig *tls.Config
	if b.api == "https" {
		tlsConfig = b.tls
	}
	b.publisher = newChimePublisher(b.addrs[b.api], creds, "us-east-1", app+"/channel/00000000-0000-0000-0000-000000000000", bearers, tlsConfig)
	return nil
}

func (b *bareSystem) dial(context.Context, int) (*websocket.Conn, error) { return nil, errNoSessions }

func (b *bareSystem) publish(ctx context.Context, pub int, mark []byte) error {
	return b.publisher.publish(ctx, pub, mark)
}

func (b *bareSystem) frame([]byte, func(mark)) []byte { return nil }
