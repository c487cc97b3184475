package clustertls

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"
)

// Files names a node's credentials: the cluster CA's certificate (PEM;
// several certificates are all trusted, for a CA rollover), the node's
// certificate (PEM, intermediates after it) and its key.
type Files struct {
	CA   string
	Cert string
	Key  string
}

// Enabled reports whether any file is named.
func (f Files) Enabled() bool { return f.CA != "" || f.Cert != "" || f.Key != "" }

// Validate checks that the files are named all three or none.
func (f Files) Validate() error {
	if f.Enabled() && (f.CA == "" || f.Cert == "" || f.Key == "") {
		return fmt.Errorf("%w: the CA certificate, the node certificate and its key must be given together (got CA %q, certificate %q, key %q)",
			ErrFiles, f.CA, f.Cert, f.Key)
	}
	return nil
}

// Credentials are a node's loaded certificate and the cluster CA it
// trusts. They are immutable and safe for concurrent use.
type Credentials struct {
	cert     tls.Certificate
	pool     *x509.CertPool
	notAfter time.Time
	// Name is the node name in this node's own certificate.
	Name string
}

// Load reads and checks f: the key must match the certificate, the
// certificate must verify against the CA as a cairn node certificate
// (so that a node started with a mismatched set fails at start-up, not
// on its first connection).
func Load(f Files) (*Credentials, error) {
	if !f.Enabled() {
		return nil, fmt.Errorf("%w: none given", ErrFiles)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFiles, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%w: %s: no PEM certificate", ErrFiles, f.CA)
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %s, %s: %w", ErrFiles, f.Cert, f.Key, err)
	}
	c := &Credentials{cert: cert, pool: pool}
	name, err := c.verify(cert.Certificate, x509.ExtKeyUsageServerAuth)
	if err == nil {
		_, err = c.verify(cert.Certificate, x509.ExtKeyUsageClientAuth)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s does not verify against %s: %w", ErrFiles, f.Cert, f.CA, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0]) // verify parsed it already
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFiles, f.Cert, err)
	}
	c.Name, c.notAfter = name, leaf.NotAfter
	return c, nil
}

// NotAfter is when this node's certificate expires: after it, no peer
// accepts the node.
func (c *Credentials) NotAfter() time.Time { return c.notAfter }

// ServerConfig is the TLS configuration for accepting cluster
// connections: TLS 1.3, a client certificate required and verified as
// the package documentation says.
func (c *Credentials) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{c.cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    c.pool,
		// The chain and ClientAuth usage are verified by crypto/tls
		// (RequireAndVerifyClientCert); this adds the node URI check.
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return ErrNoCertificate
			}
			_, err := nodeName(cs.PeerCertificates[0])
			return err
		},
	}
}

// ClientConfig is the TLS configuration for dialling cluster peers: TLS
// 1.3, this node's certificate presented, and the server's verified
// against the cluster CA as the package documentation says, without
// matching its host name.
func (c *Credentials) ClientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{c.cert},
		// crypto/tls would match the dialled address against the
		// certificate's SANs, which cairn deliberately does not do (see
		// the package documentation). Its own check is switched off and
		// VerifyConnection does the whole verification instead: chain to
		// the cluster CA, validity, ServerAuth, node URI.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			raw := make([][]byte, len(cs.PeerCertificates))
			for i, pc := range cs.PeerCertificates {
				raw[i] = pc.Raw
			}
			_, err := c.verify(raw, x509.ExtKeyUsageServerAuth)
			return err
		},
	}
}

// verify checks that chain (leaf first, DER) verifies against the CA for
// usage and that its leaf is a node certificate; it returns the node name.
func (c *Credentials) verify(chain [][]byte, usage x509.ExtKeyUsage) (string, error) {
	if len(chain) == 0 {
		return "", ErrNoCertificate
	}
	certs := make([]*x509.Certificate, len(chain))
	for i, der := range chain {
		var err error
		if certs[i], err = x509.ParseCertificate(der); err != nil {
			return "", fmt.Errorf("clustertls: peer certificate: %w", err)
		}
	}
	inter := x509.NewCertPool()
	for _, ic := range certs[1:] {
		inter.AddCert(ic)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         c.pool,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{usage},
	}); err != nil {
		return "", fmt.Errorf("clustertls: peer certificate: %w", err)
	}
	return nodeName(certs[0])
}

// nodeName returns the name in leaf's cairn://node/<name> URI SAN.
func nodeName(leaf *x509.Certificate) (string, error) {
	for _, u := range leaf.URIs {
		want := NodeURI("x")
		if u.Scheme == want.Scheme && u.Host == want.Host && len(u.Path) > 1 {
			return u.Path[1:], nil
		}
	}
	return "", fmt.Errorf("%w: %q has no cairn://node/<name> URI SAN", ErrNotNode, leaf.Subject.CommonName)
}

// PeerName returns the node name of the peer of an established
// connection, or "" if it has none.
func PeerName(cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 {
		return ""
	}
	name, err := nodeName(cs.PeerCertificates[0])
	if err != nil {
		return ""
	}
	return name
}
