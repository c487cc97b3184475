package clustertls

import (
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The files cairnctl tls writes: keys private to their owner, nothing
// overwritten, and a CA that reads back as the same CA.
func TestWriteFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Now()
	ca, err := NewCA("test CA", DefaultCAValidity, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteFiles(dir); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second WriteFiles = %v, want ErrExist", err)
	}
	nc, err := ca.Issue(NodeRequest{Name: "n1", DNS: []string{"n1.example"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{
		CACertFile: 0o644, CAKeyFile: 0o600, "n1.pem": 0o644, "n1-key.pem": 0o600,
	} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", name, got, want)
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", fi.Mode().Perm())
	}
	again, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Cert.Equal(ca.Cert) || !again.Key.Equal(ca.Key) {
		t.Fatal("LoadCA read a different CA")
	}
	creds, err := Load(Paths(dir, "n1"))
	if err != nil {
		t.Fatal(err)
	}
	if creds.Name != "n1" {
		t.Fatalf("Name = %q", creds.Name)
	}
	if d := creds.NotAfter().Sub(now); d < DefaultNodeValidity-time.Minute || d > DefaultNodeValidity+time.Minute {
		t.Fatalf("NotAfter %v, %v from now", creds.NotAfter(), d)
	}
}

// What a node certificate says: the node URI, both usages, P-256, signed
// by the CA, no longer valid than the CA.
func TestIssue(t *testing.T) {
	now := time.Now()
	ca, err := NewCA("test CA", 48*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := ca.Issue(NodeRequest{Name: "node-1.a_b", DNS: []string{"n1.example"}, IPs: []net.IP{net.ParseIP("::1")}}, now)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := onePEM(nc.CertPEM, "CERTIFICATE")
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.URIs) != 1 || c.URIs[0].String() != "cairn://node/node-1.a_b" {
		t.Errorf("URIs = %v", c.URIs)
	}
	if len(c.ExtKeyUsage) != 2 || c.IsCA {
		t.Errorf("ExtKeyUsage %v, IsCA %v", c.ExtKeyUsage, c.IsCA)
	}
	if c.PublicKeyAlgorithm != x509.ECDSA || c.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("key %v, signature %v", c.PublicKeyAlgorithm, c.SignatureAlgorithm)
	}
	if !c.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("NotAfter %v outlives the CA's %v", c.NotAfter, ca.Cert.NotAfter)
	}
	if err := c.CheckSignatureFrom(ca.Cert); err != nil {
		t.Error(err)
	}
	if c.DNSNames[0] != "n1.example" || !c.IPAddresses[0].Equal(net.ParseIP("::1")) {
		t.Errorf("SANs %v %v", c.DNSNames, c.IPAddresses)
	}
	for _, bad := range []string{"", "ca", "a/b", "../x", ".hidden", strings.Repeat("a", 64), "a b"} {
		if _, err := ca.Issue(NodeRequest{Name: bad}, now); err == nil {
			t.Errorf("Issue(%q) accepted", bad)
		}
	}
}

func TestFilesValidate(t *testing.T) {
	for _, tc := range []struct {
		f  Files
		ok bool
	}{
		{Files{}, true},
		{Files{CA: "a", Cert: "b", Key: "c"}, true},
		{Files{CA: "a"}, false},
		{Files{CA: "a", Cert: "b"}, false},
		{Files{Key: "c"}, false},
	} {
		if err := tc.f.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate = %v", tc.f, err)
		}
	}
}

// Load refuses a set that could never connect: a certificate from
// another CA, a key that is not the certificate's.
func TestLoadRefusesMismatches(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := Generate(a, "n1", "n2"); err != nil {
		t.Fatal(err)
	}
	if err := Generate(b, "n1"); err != nil {
		t.Fatal(err)
	}
	other := Files{CA: filepath.Join(a, CACertFile), Cert: filepath.Join(b, "n1.pem"), Key: filepath.Join(b, "n1-key.pem")}
	if _, err := Load(other); !errors.Is(err, ErrFiles) {
		t.Errorf("cert from another CA: %v", err)
	}
	wrongKey := Paths(a, "n1")
	wrongKey.Key = filepath.Join(a, "n2-key.pem")
	if _, err := Load(wrongKey); !errors.Is(err, ErrFiles) {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := Load(Files{CA: filepath.Join(a, CACertFile)}); !errors.Is(err, ErrFiles) {
		t.Errorf("partial: %v", err)
	}
	if _, err := Load(Paths(a, "nobody")); !errors.Is(err, ErrFiles) {
		t.Errorf("missing: %v", err)
	}
}

// handshake runs a TLS handshake between a client and a server config
// over an in-memory pipe and returns each side's error.
func handshake(t *testing.T, client, server *tls.Config) (clientErr, serverErr error) {
	t.Helper()
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	done := make(chan error, 1)
	go func() {
		ts := tls.Server(s, server)
		err := ts.Handshake()
		if err == nil {
			// The client's certificate is checked by now; one byte
			// gives the client's Read below something to succeed on.
			_, err = ts.Write([]byte{1})
		}
		if err != nil {
			s.Close()
		}
		done <- err
	}()
	tc := tls.Client(c, client)
	clientErr = tc.Handshake()
	if clientErr == nil {
		// A server that rejects the client's certificate says so after
		// the client's half of a TLS 1.3 handshake: on the first read.
		_, clientErr = tc.Read(make([]byte, 1))
	}
	if clientErr != nil {
		c.Close()
	}
	select {
	case serverErr = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("server handshake did not finish")
	}
	return clientErr, serverErr
}

// Who gets through: only a node certificate from the same CA, on both
// ends; not one from another CA, not a CA-signed certificate without
// the node URI, not an expired one, not none, not TLS 1.2.
func TestHandshakeMatrix(t *testing.T) {
	dir, otherDir := t.TempDir(), t.TempDir()
	if err := Generate(dir, "n1", "n2"); err != nil {
		t.Fatal(err)
	}
	if err := Generate(otherDir, "n2"); err != nil {
		t.Fatal(err)
	}
	load := func(f Files) *Credentials {
		t.Helper()
		c, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	n1, n2 := load(Paths(dir, "n1")), load(Paths(dir, "n2"))
	stranger := load(Paths(otherDir, "n2"))

	// A certificate the cluster CA signed for something else (no node
	// URI), and an expired node certificate: built by hand, as Issue
	// makes neither.
	ca, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	plain := *n1
	plain.cert = signed(t, ca, func(c *x509.Certificate) { c.URIs = nil })
	expired := *n1
	expired.cert = signed(t, ca, func(c *x509.Certificate) { c.NotAfter = time.Now().Add(-time.Minute) })

	noCert := n2.ClientConfig()
	noCert.Certificates = nil
	tls12 := n2.ClientConfig()
	tls12.MinVersion, tls12.MaxVersion = tls.VersionTLS12, tls.VersionTLS12

	for _, tc := range []struct {
		name           string
		client, server *tls.Config
		ok             bool
	}{
		{"same CA", n2.ClientConfig(), n1.ServerConfig(), true},
		{"client from another CA", stranger.ClientConfig(), n1.ServerConfig(), false},
		{"server from another CA", n1.ClientConfig(), stranger.ServerConfig(), false},
		{"client without a certificate", noCert, n1.ServerConfig(), false},
		{"client certificate without node URI", plain.ClientConfig(), n1.ServerConfig(), false},
		{"server certificate without node URI", n1.ClientConfig(), plain.ServerConfig(), false},
		{"expired client certificate", expired.ClientConfig(), n1.ServerConfig(), false},
		{"expired server certificate", n1.ClientConfig(), expired.ServerConfig(), false},
		{"TLS 1.2 client", tls12, n1.ServerConfig(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cerr, serr := handshake(t, tc.client, tc.server)
			if tc.ok && (cerr != nil || serr != nil) {
				t.Fatalf("client %v, server %v; want both to succeed", cerr, serr)
			}
			if !tc.ok && (cerr == nil || serr == nil) {
				t.Fatalf("client %v, server %v; want both to fail", cerr, serr)
			}
			t.Logf("client: %v; server: %v", cerr, serr)
		})
	}
}

// signed returns a certificate like a node certificate for "n9", changed
// by edit, signed by ca.
func signed(t *testing.T, ca *CA, edit func(*x509.Certificate)) tls.Certificate {
	t.Helper()
	nc, err := ca.Issue(NodeRequest{Name: "n9"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	kp, err := tls.X509KeyPair(nc.CertPEM, nc.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := x509.ParseCertificate(kp.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	edit(tmpl)
	key := kp.PrivateKey.(interface{ Public() crypto.PublicKey })
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	kp.Certificate, kp.Leaf = [][]byte{der}, nil
	return kp
}
