package client_test

import (
	"context"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/client"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/httpapi"
	"github.com/cairnkv/cairn/node/httpguard"
	"github.com/cairnkv/cairn/node/store"
)

const (
	testDataToken  = "data-token-for-the-client-test"
	testAdminToken = "admin-token-for-the-client-test"
)

// startSecureNode serves one in-memory node over HTTPS behind bearer
// tokens (with a sibling limit of 3), and returns its URL and a CA file
// that trusts its certificate.
func startSecureNode(t *testing.T) (url, caFile string) {
	t.Helper()
	cfg := node.DefaultLocalConfig("secure")
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.AAE.Enabled = false
	cfg.WarnSiblings, cfg.MaxSiblings = 2, 3
	eng := store.NewMem()
	n, err := node.New(cfg, eng, nil)
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.DefaultConfig(), n, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := httpguard.ParseTokens(strings.NewReader("data " + testDataToken + "\nadmin " + testAdminToken + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpguard.New(httpguard.DefaultConfig(), tokens, api, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(func() {
		srv.Close()
		_ = n.Close()
		_ = eng.Close()
	})
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL, caFile
}

func secureClient(t *testing.T, url, caFile, token string) *client.Client {
	t.Helper()
	cfg := client.DefaultLocalConfig()
	cfg.Nodes, cfg.CAFile, cfg.Token = []string{url}, caFile, token
	cfg.Retries = -1
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Over HTTPS with the node's CA and a data token, the client reads and
// writes; without a token, with a wrong one, or without the CA it cannot;
// a write past the node's sibling limit is ErrTooManySiblings.
func TestClientTLSAndToken(t *testing.T) {
	url, caFile := startSecureNode(t)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("test server at %s", url)
	}
	ctx := context.Background()
	loc := client.Location{Bucket: "b", Key: "k"}

	c := secureClient(t, url, caFile, testDataToken)
	if _, err := c.Put(ctx, client.NewObject(loc, []byte("v1"), "text/plain")); err != nil {
		t.Fatalf("Put with a data token: %v", err)
	}
	got, err := c.Get(ctx, loc)
	if err != nil || string(got.Siblings[0].Value) != "v1" {
		t.Fatalf("Get with a data token: %v %v", got, err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}

	for name, token := range map[string]string{"no token": "", "wrong token": "not-a-token-of-this-node"} {
		_, err := secureClient(t, url, caFile, token).Get(ctx, loc)
		var e *client.Error
		if !errors.Is(err, client.ErrUnauthorized) || !errors.Is(err, client.ErrBadRequest) || !errors.As(err, &e) || e.Status != 401 {
			t.Errorf("%s: %v, want a 401 ErrUnauthorized", name, err)
		}
	}
	if _, err := c.Stats(ctx); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("Stats (an admin endpoint) with a data token: %v, want ErrUnauthorized", err)
	}
	if _, err := secureClient(t, url, caFile, testAdminToken).Stats(ctx); err != nil {
		t.Errorf("Stats with an admin token: %v", err)
	}
	if _, err := secureClient(t, url, "", testDataToken).Get(ctx, loc); !errors.Is(err, client.ErrUnavailable) {
		t.Errorf("without the CA: %v, want a TLS failure (ErrUnavailable)", err)
	}

	// v1 plus two blind writes: three siblings, the limit; the next blind
	// write is refused.
	for _, v := range []string{"v2", "v3"} {
		if _, err := c.Put(ctx, client.NewObject(loc, []byte(v), "text/plain")); err != nil {
			t.Fatalf("blind Put %s: %v", v, err)
		}
	}
	_, err = c.Put(ctx, client.NewObject(loc, []byte("v4"), "text/plain"))
	if !errors.Is(err, client.ErrTooManySiblings) || !errors.Is(err, client.ErrConflict) {
		t.Fatalf("Put past the sibling limit: %v, want ErrTooManySiblings", err)
	}
	obj, err := c.Get(ctx, loc)
	if err != nil || len(obj.Siblings) != 3 {
		t.Fatalf("Get after the refusal: %v %v", obj, err)
	}
	obj.Siblings = []client.Sibling{{Value: []byte("merged"), ContentType: "text/plain"}}
	if _, err := c.Put(ctx, obj); err != nil {
		t.Fatalf("Put with the read's context at the limit: %v", err)
	}
}

func TestConfigCAFile(t *testing.T) {
	cfg := client.DefaultConfig()
	cfg.Nodes = []string{"https://127.0.0.1:1"}
	cfg.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := client.New(cfg); err == nil || !strings.Contains(err.Error(), "CAFile") {
		t.Fatalf("missing CA file: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.CAFile = empty
	if _, err := client.New(cfg); err == nil || !strings.Contains(err.Error(), "no PEM") {
		t.Fatalf("CA file without PEM: %v", err)
	}
	cfg.CAFile, cfg.Token = "", "two words"
	if _, err := client.New(cfg); err == nil {
		t.Fatal("a token with a space was accepted")
	}
}
