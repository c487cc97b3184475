package main

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/cairnkv/cairn/node/httpguard"
)

const (
	ctlDataToken  = "cairnctl-data-token-0123"
	ctlAdminToken = "cairnctl-admin-token-0123"
)

// serveSecure serves the admin API over the fixture and a node's data API
// over HTTPS, behind bearer tokens, as a production node does. It returns
// the URL and a CA file trusting the server's certificate.
func serveSecure(t *testing.T) (url, ca string) {
	t.Helper()
	_, api := startNode(t, nil, nil)
	mux := http.NewServeMux()
	mux.Handle("/admin/", adminapi.New(fixture(), nil))
	mux.Handle("/", api)
	tokens, err := httpguard.ParseTokens(strings.NewReader("data " + ctlDataToken + "\nadmin " + ctlAdminToken + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpguard.New(httpguard.DefaultConfig(), tokens, mux, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	ca = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL, ca
}

// Against an HTTPS node with tokens: --ca and --token (or CAIRN_CA and
// CAIRN_TOKEN) reach it; an admin command needs the admin token; data
// commands work with the data token; no token or no CA fails with a
// message that says what to do.
func TestTLSAndTokens(t *testing.T) {
	url, ca := serveSecure(t)
	ok(t, cairnctl(t, url, "--ca", ca, "--token", ctlAdminToken, "member-status"))
	env := invocation{env: map[string]string{"CAIRN_NODE": url, "CAIRN_CA": ca, "CAIRN_TOKEN": ctlAdminToken}}
	if r := env.run(t, "cluster", "status"); r.code != 0 {
		t.Fatalf("with CAIRN_CA and CAIRN_TOKEN: %+v", r)
	}

	failed(t, cairnctl(t, url, "--ca", ca, "member-status"), "401", "--token or CAIRN_TOKEN")
	failed(t, cairnctl(t, url, "--ca", ca, "--token", ctlDataToken, "member-status"), "403", "admin token")
	failed(t, cairnctl(t, url, "--token", ctlAdminToken, "member-status"), "certificate")

	ok(t, cairnctl(t, url, "--ca", ca, "--token", ctlDataToken, "put", "default", "b", "k", "v"))
	if out := ok(t, cairnctl(t, url, "--ca", ca, "--token", ctlDataToken, "get", "default", "b", "k", "--raw")); out != "v" {
		t.Fatalf("get --raw: %q", out)
	}
	failed(t, cairnctl(t, url, "--ca", ca, "get", "default", "b", "k"), "401")
	failed(t, cairnctl(t, url, "--ca", filepath.Join(t.TempDir(), "none.pem"), "member-status"), "--ca")
}
