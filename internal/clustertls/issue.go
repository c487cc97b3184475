package clustertls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"regexp"
	"time"
)

// Validity defaults for cairnctl tls init and issue.
const (
	DefaultCAValidity   = 5 * 365 * 24 * time.Hour
	DefaultNodeValidity = 365 * 24 * time.Hour
)

// backdate is how far before now a certificate becomes valid, so that a
// node whose clock is a little behind the issuer's accepts it at once.
const backdate = time.Hour

// CA is a cluster certificate authority: its certificate and the key that
// signs node certificates.
type CA struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
}

// NodeRequest describes a node certificate to issue.
type NodeRequest struct {
	// Name is the node's name: the certificate's common name, its
	// cairn://node/<name> URI SAN and its file names. Letters, digits,
	// '.', '_' and '-'; not "ca".
	Name string
	// DNS and IPs become SANs. cairn does not match them (see the package
	// documentation); other tools may.
	DNS []string
	IPs []net.IP
	// Validity is how long the certificate is valid; zero means
	// DefaultNodeValidity.
	Validity time.Duration
}

// NodeCert is an issued node certificate and its key, PEM-encoded.
type NodeCert struct {
	Name    string
	CertPEM []byte
	KeyPEM  []byte
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,62}$`)

// NodeURI is the URI SAN that marks a certificate as a cairn node's.
func NodeURI(name string) *url.URL {
	return &url.URL{Scheme: "cairn", Host: "node", Path: "/" + name}
}

// NewCA makes a new CA: a P-256 key and a self-signed certificate valid
// for validity from now, that can sign node certificates and nothing
// else (path length zero).
func NewCA(commonName string, validity time.Duration, now time.Time) (*CA, error) {
	if validity <= 0 {
		return nil, errors.New("clustertls: CA validity must be positive")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("clustertls: generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"cairn"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("clustertls: create CA certificate: %w", err)
	}
	return newCA(der, key)
}

func newCA(der []byte, key *ecdsa.PrivateKey) (*CA, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("clustertls: parse CA certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, CertPEM: encodeCert(der), KeyPEM: keyPEM}, nil
}

// Issue signs a node certificate for req, valid from now, usable both to
// accept connections (ServerAuth) and to make them (ClientAuth), with a
// fresh P-256 key.
func (ca *CA) Issue(req NodeRequest, now time.Time) (*NodeCert, error) {
	if !validName.MatchString(req.Name) || req.Name == "ca" {
		return nil, fmt.Errorf("clustertls: node name %q: want 1-63 letters, digits, '.', '_' or '-', not \"ca\"", req.Name)
	}
	validity := req.Validity
	if validity == 0 {
		validity = DefaultNodeValidity
	}
	if validity < 0 {
		return nil, errors.New("clustertls: node certificate validity must be positive")
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter // a chain is no longer valid than its CA
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("clustertls: generate node key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: req.Name, Organization: []string{"cairn"}},
		NotBefore:    now.Add(-backdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{NodeURI(req.Name)},
		DNSNames:     req.DNS,
		IPAddresses:  req.IPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("clustertls: sign node certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &NodeCert{Name: req.Name, CertPEM: encodeCert(der), KeyPEM: keyPEM}, nil
}

func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("clustertls: serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil // never zero
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("clustertls: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
