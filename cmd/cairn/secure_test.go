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
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir and
// returns their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "cairn test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

var secureListenLine = regexp.MustCompile(`listening on (https?)://(\S+)`)

// startConfigured runs the server wiring in this process with cfg and
// returns the scheme and address it announced; the server stops when the
// test ends.
func startConfigured(t testing.TB, cfg Config) (scheme, addr string) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, cfg, slog.New(slog.DiscardHandler), pw)
		_ = pw.Close()
	}()
	line := make([]byte, 512)
	n, err := pr.Read(line)
	if err != nil {
		cancel()
		t.Fatalf("server did not start: %v %v", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	m := secureListenLine.FindSubmatch(line[:n])
	if m == nil {
		t.Fatalf("unexpected banner %q", line[:n])
	}
	return string(m[1]), string(m[2])
}

// The documented production configuration, in one process: HTTPS only,
// bearer tokens, admin endpoints closed to data tokens, /ping open.
func TestServeTLSWithTokens(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, roots := selfSigned(t, dir)
	tokenFile := filepath.Join(dir, "tokens")
	const data, admin = "data-token-of-the-process-test", "admin-token-of-the-process-test"
	if err := os.WriteFile(tokenFile, []byte("# cairn tokens\ndata "+data+"\nadmin "+admin+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.HTTPAddr, cfg.RaftAddr, cfg.RPCAddr, cfg.GossipAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Bootstrap, cfg.Voters = true, 1
	cfg.HTTPTLSCert, cfg.HTTPTLSKey, cfg.HTTPTokenFile = certFile, keyFile, tokenFile
	scheme, addr := startConfigured(t, cfg)
	if scheme != "https" {
		t.Fatalf("announced %s://%s, want https", scheme, addr)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: 10 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	call := func(method, path, token, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, "https://"+addr+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if body != "" {
			req.Header.Set("Content-Type", "text/plain")
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for _, c := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"GET", "/ping", "", "", 200},
		{"PUT", "/buckets/b/keys/k", "", "v", 401},
		{"PUT", "/buckets/b/keys/k", data, "v", 204},
		{"GET", "/buckets/b/keys/k", data, "", 200},
		{"GET", "/admin/cluster", data, "", 403},
		{"GET", "/admin/cluster", admin, "", 200},
		{"GET", "/metrics", data, "", 403},
		{"GET", "/metrics", admin, "", 200},
		{"GET", "/buckets/b/keys/k", "wrong-token-wrong-token", "", 401},
	} {
		if got := call(c.method, c.path, c.token, c.body); got != c.want {
			t.Errorf("%s %s with token %q: %d, want %d", c.method, c.path, c.token, got, c.want)
		}
	}
	// Plain HTTP on the TLS port is not served.
	res, err := http.Get("http://" + addr + "/ping")
	if err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Fatal("plain HTTP served on the HTTPS port")
		}
	}
}

func TestParseConfigLimits(t *testing.T) {
	env := func(string) string { return "" }
	cfg, err := parseConfig([]string{
		"--max-key-length", "100", "--max-bucket-length", "50", "--warn-siblings", "5", "--max-siblings", "10",
		"--max-body-size", "104857600", "--max-object-size", "1048576", "--max-header-bytes", "8192",
		"--max-concurrent-requests", "7", "--rpc-max-frame-size", "4194304",
		"--http-read-header-timeout", "3s", "--http-read-timeout", "1m", "--http-write-timeout", "2m", "--http-idle-timeout", "30s",
	}, env)
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.guardConfig()
	if cfg.MaxKeyLen != 100 || cfg.MaxBucketLen != 50 || cfg.WarnSiblings != 5 || cfg.MaxSiblings != 10 || cfg.RPCMaxFrameSize != 4<<20 ||
		g.MaxBodyBytes != 100<<20 || g.MaxHeaderBytes != 8192 || g.MaxConcurrent != 7 || g.ReadHeaderTimeout != 3*time.Second ||
		g.ReadTimeout != time.Minute || g.WriteTimeout != 2*time.Minute || g.IdleTimeout != 30*time.Second {
		t.Fatalf("flags not applied: %+v / %+v", cfg, g)
	}
	if g := DefaultConfig().guardConfig(); g.MaxBodyBytes != DefaultConfig().MaxObjectSize {
		t.Fatalf("default body limit %d, want --max-object-size", g.MaxBodyBytes)
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, args := range [][]string{
		{"--http-tls-cert", "c.pem"},
		{"--max-siblings", "5", "--warn-siblings", "6"},
		{"--max-key-length", "100000"},
		{"--max-body-size", "10", "--max-object-size", "100"},
		{"--rpc-max-frame-size", "1048576"},
		{"--max-header-bytes", "10"},
		{"--max-concurrent-requests", "-1"},
		{"--http-read-header-timeout", "0s"},
	} {
		if _, err := parseConfig(args, env); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if _, err := parseConfig(nil, func(k string) string {
		return map[string]string{"CAIRN_MAX_SIBLINGS": "3", "CAIRN_WARN_SIBLINGS": "4"}[k]
	}); err == nil {
		t.Error("environment with warn above max accepted")
	}
}
