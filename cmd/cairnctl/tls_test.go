package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/clustertls"
)

// tls init and issue write a CA and node credentials that a node loads
// as they are, keys readable by their owner only, with the SANs asked
// for; nothing is overwritten.
func TestTLSInitIssue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	inv := invocation{}
	out := ok(t, inv.run(t, "tls", "init", "--dir", dir))
	if !strings.Contains(out, filepath.Join(dir, "ca.pem")) || !strings.Contains(out, "cairnctl tls issue") {
		t.Errorf("init said:\n%s", out)
	}
	out = ok(t, inv.run(t, "tls", "issue", "--dir", dir, "--name", "n1", "--ip", "127.0.0.1,10.0.0.1", "--dns", "n1.cairn.internal"))
	want := "--cluster-tls-ca " + filepath.Join(dir, "ca.pem") + " --cluster-tls-cert " + filepath.Join(dir, "n1.pem") +
		" --cluster-tls-key " + filepath.Join(dir, "n1-key.pem")
	if !strings.Contains(out, want) {
		t.Errorf("issue said:\n%s\nwant the flags %q", out, want)
	}
	var files map[string]string
	raw := ok(t, inv.run(t, "-o", "json", "tls", "issue", "--dir", dir, "--name", "n2"))
	if err := json.Unmarshal([]byte(raw), &files); err != nil || files["key"] != filepath.Join(dir, "n2-key.pem") {
		t.Errorf("json: %v %q", err, raw)
	}

	for name, mode := range map[string]os.FileMode{"ca-key.pem": 0o600, "n1-key.pem": 0o600, "n2-key.pem": 0o600, "ca.pem": 0o644, "n1.pem": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
	creds, err := clustertls.Load(clustertls.Paths(dir, "n1"))
	if err != nil {
		t.Fatal(err)
	}
	if creds.Name != "n1" {
		t.Errorf("loaded node %q", creds.Name)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "n1.pem"))
	blk, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.IPAddresses) != 2 || !cert.IPAddresses[1].Equal(net.ParseIP("10.0.0.1")) ||
		len(cert.DNSNames) != 1 || cert.DNSNames[0] != "n1.cairn.internal" {
		t.Errorf("SANs: %v %v", cert.IPAddresses, cert.DNSNames)
	}

	failed(t, inv.run(t, "tls", "init", "--dir", dir), "ca.pem", "exists")
	failed(t, inv.run(t, "tls", "issue", "--dir", dir, "--name", "n1"), "n1.pem", "exists")
	failed(t, inv.run(t, "tls", "issue", "--dir", dir), "--name is required")
	failed(t, inv.run(t, "tls", "issue", "--dir", dir, "--name", "../n3"), "node name")
	failed(t, inv.run(t, "tls", "issue", "--dir", t.TempDir(), "--name", "n3"), "cairnctl tls init")
}
