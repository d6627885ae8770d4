package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/carillonhq/carillon/sqlite"
)

// Files of the data directory.
const (
	databaseFile        = "carillon.db"
	rootCredentialsFile = "root-credentials.json"
	tlsCertFile         = "tls-cert.pem"
	tlsKeyFile          = "tls-key.pem"
)

// restrictDataDir creates the data directory with mode 0700, or takes
// group and other permissions away from one that has them, and makes its
// secret files (the database, whose access keys are in plaintext, the
// root credentials and the TLS key) 0600; it warns of every permission it
// tightens, which an operator may want to know was ever open.
func restrictDataDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
		log.Warn("data directory was open to other users: now 0700", "path", dir, "was", fmt.Sprintf("%04o", perm))
	}
	for _, name := range []string{rootCredentialsFile, tlsKeyFile} {
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				return err
			}
			log.Warn("secret file was open to other users: now 0600", "path", path, "was", fmt.Sprintf("%04o", perm))
		}
	}
	tightened, err := sqlite.Restrict(filepath.Join(dir, databaseFile))
	for _, path := range tightened {
		log.Warn("database file was open to other users: now 0600", "path", path)
	}
	return err
}

// loadOrCreateRootCredentials returns the root key pair stored in dir,
// creating one on first start. created reports whether it was just made,
// so that the caller prints it once.
func loadOrCreateRootCredentials(dir string) (rc RootCredentials, created bool, err error) {
	path := filepath.Join(dir, rootCredentialsFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &rc); err != nil || rc.AccessKeyID == "" || rc.SecretAccessKey == "" {
			return rc, false, fmt.Errorf("%s is not a valid credentials file", path)
		}
		return rc, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return rc, false, err
	}
	rc = RootCredentials{AccessKeyID: NewAccessKeyID(), SecretAccessKey: NewSecret()}
	b, _ = json.MarshalIndent(rc, "", "  ")
	if err := writeFileAtomic(path, b, 0o600); err != nil {
		return rc, false, err
	}
	return rc, true, nil
}

// NewAccessKeyID returns a random access key id shaped like AWS's: 20
// upper-case characters. The "CK" prefix tells Carillon keys apart.
func NewAccessKeyID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	return "CKIA" + randomString(alphabet, 16)
}

// NewSecret returns a random 40-character secret access key.
func NewSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	return randomString(alphabet, 40)
}

// NewSessionToken returns a random session token for temporary keys.
func NewSessionToken() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	return "CSTS" + randomString(alphabet, 96)
}

func randomString(alphabet string, n int) string {
	out := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range out {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out)
}

// loadOrCreateCertificate loads the TLS certificate, or generates a
// self-signed one into dir the first time. amazon-chime-sdk-js always
// connects with wss://, so TLS must work out of the box.
func loadOrCreateCertificate(dir string, hosts []string) (tls.Certificate, error) {
	certPath, keyPath := filepath.Join(dir, tlsCertFile), filepath.Join(dir, tlsKeyFile)
	if c, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		return c, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, err
	}
	certPEM, keyPEM, err := selfSigned(hosts, time.Now())
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// selfSigned makes a P-256 certificate valid for the hosts (names or IPs).
func selfSigned(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Carillon self-signed", Organization: []string{"Carillon"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	seen := map[string]bool{}
	for _, h := range append([]string{"localhost", "127.0.0.1", "::1"}, hosts...) {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			if !ip.IsUnspecified() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

// writeFileAtomic writes through a temporary file and a rename, so that a
// crash never leaves half a key behind.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
