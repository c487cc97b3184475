package httpapi

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/node/httpguard"
)

// newGuardedServer serves the API as cmd/cairn does: behind httpguard
// (bearer tokens, body limit, shedding) on an http.Server with its
// timeouts and an 8 KiB header limit.
func newGuardedServer(t *testing.T, tokens string) *httptest.Server {
	t.Helper()
	env := newTestEnv(t, false)
	gc := httpguard.DefaultConfig()
	gc.MaxBodyBytes = env.cfg.MaxObjectSize
	gc.MaxHeaderBytes = 8 << 10
	var tok *httpguard.Tokens
	if tokens != "" {
		var err error
		if tok, err = httpguard.ParseTokens(strings.NewReader(tokens)); err != nil {
			t.Fatal(err)
		}
	}
	h, err := httpguard.New(gc, tok, env.api, nil, env.reg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config = gc.Server(h, nil)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// rawRequest writes req as is on a new connection and returns the status
// line and the body of the answer.
func rawRequest(t *testing.T, srv *httptest.Server, req string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to %.40q: %v", req, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Every kind of oversized or malformed input, one after another on one
// server: each is answered with its 4xx and a message saying what was
// wrong, and after each one the node still stores and serves a value.
func TestMisuseKeepsServing(t *testing.T) {
	srv := newGuardedServer(t, "")
	ct := []string{"Content-Type", "text/plain"}
	jsonCT := []string{"Content-Type", "application/json"}
	big := strings.Repeat("x", 1<<20+1)
	for _, m := range []struct {
		name, method, path, body string
		hdr                      []string
		want                     int
		says                     string
	}{
		{"oversized value", "PUT", "/buckets/b/keys/big", big, ct, 413, "larger than"},
		{"oversized key", "PUT", "/buckets/b/keys/" + strings.Repeat("k", 8<<10+1), "v", ct, 400, "key is 8193 bytes"},
		{"oversized bucket", "PUT", "/buckets/" + strings.Repeat("b", 1025) + "/keys/k", "v", ct, 400, "bucket longer than 1024"},
		{"oversized header", "GET", "/buckets/b/keys/k", "", []string{"X-Riak-Meta-Big", strings.Repeat("h", 16<<10)}, 431, "Header"},
		{"oversized props", "PUT", "/buckets/b/props", `{"props":{"x":"` + strings.Repeat("p", 1<<20) + `"}}`, jsonCT, 413, "larger than"},
		{"garbage vclock", "PUT", "/buckets/b/keys/k", "v", append([]string{hdrVclock, "%%% not a clock %%%"}, ct...), 400, "causal context"},
		{"base64 vclock that is no clock", "PUT", "/buckets/b/keys/k", "v", append([]string{hdrVclock, "bm90IGEgY2xvY2s="}, ct...), 400, "causal context"},
		{"r above n_val", "GET", "/buckets/b/keys/k?r=4", "", nil, 400, "exceeds n_val"},
		{"non-numeric w", "PUT", "/buckets/b/keys/k?w=lots", "v", ct, 400, "w query parameter"},
		{"huge quorum number", "GET", "/buckets/b/keys/k?r=99999999999999999999", "", nil, 400, "r query parameter"},
		{"unknown bucket type", "GET", "/types/nope/buckets/b/keys/k", "", nil, 404, "unknown bucket type"},
		{"unknown type props", "PUT", "/types/nope/buckets/b/props", `{"props":{}}`, jsonCT, 404, "unknown bucket type"},
		{"props as text", "PUT", "/buckets/b/props", `{"props":{}}`, ct, 415, "application/json"},
		{"garbage JSON", "PUT", "/buckets/b/props", "{{{{", jsonCT, 400, "malformed JSON"},
		{"props of the wrong type", "PUT", "/buckets/b/props", `{"props":{"n_val":"three"}}`, jsonCT, 400, "n_val"},
		{"malformed Link", "PUT", "/buckets/b/keys/k", "v", append([]string{"Link", "<<<"}, ct...), 400, "Link"},
		{"malformed content type", "PUT", "/buckets/b/keys/k", "v", []string{"Content-Type", "text/"}, 400, "Content-Type"},
	} {
		r := do(t, srv, m.method, m.path, m.body, m.hdr...)
		if r.status != m.want || !strings.Contains(r.body, m.says) {
			t.Errorf("%s: %d %.200q, want %d saying %q", m.name, r.status, r.body, m.want, m.says)
		}
		stillServing(t, srv, m.name)
	}

	// What net/http itself refuses: a garbage request line, a bad
	// header line, a body larger than its declared length's limit.
	for name, raw := range map[string]string{
		"garbage request line":  "\x00\x01\x02 garbage\r\n\r\n",
		"malformed path escape": "GET /buckets/b/keys/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
		"header without colon":  "GET /ping HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
		"declared huge body":    "PUT /buckets/b/keys/k HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 999999999999\r\n\r\nv",
	} {
		status, body := rawRequest(t, srv, raw)
		if status < 400 || status > 499 || strings.TrimSpace(body) == "" {
			t.Errorf("%s: %d %q, want a 4xx with a message", name, status, body)
		}
		stillServing(t, srv, name)
	}
}

// stillServing fails the test unless the server stores and reads a value.
func stillServing(t *testing.T, srv *httptest.Server, after string) {
	t.Helper()
	key := "/buckets/alive/keys/" + url.PathEscape(after) + "?returnbody=true"
	if r := do(t, srv, "PUT", key, "ok", "Content-Type", "text/plain"); r.status != 200 || r.body != "ok" {
		t.Fatalf("after %s: PUT answered %d %q", after, r.status, r.body)
	}
	if r := do(t, srv, "GET", "/ping", ""); r.status != 200 {
		t.Fatalf("after %s: ping answered %d", after, r.status)
	}
}

// With tokens configured, every KV and monitoring request without a valid
// token is refused, before anything reaches the node.
func TestTokensRefuseBeforeTheNode(t *testing.T) {
	const data = "data-token-0123456789abcdef"
	srv := newGuardedServer(t, "data "+data+"\n")
	for _, p := range []struct{ method, path string }{
		{"GET", "/buckets/b/keys/k"}, {"PUT", "/buckets/b/keys/k"}, {"POST", "/buckets/b/keys"},
		{"DELETE", "/buckets/b/keys/k"}, {"GET", "/buckets?buckets=true"}, {"GET", "/buckets/b/keys?keys=stream"},
		{"PUT", "/buckets/b/props"}, {"GET", "/stats"}, {"GET", "/metrics"},
	} {
		if r := do(t, srv, p.method, p.path, "v", "Content-Type", "text/plain"); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s without a token: %d %v", p.method, p.path, r.status, r.header)
		}
	}
	if r := do(t, srv, "PUT", "/buckets/b/keys/k", "v", "Content-Type", "text/plain", "Authorization", "Bearer "+data); r.status != 204 {
		t.Fatalf("with the data token: %d %q", r.status, r.body)
	}
	if r := do(t, srv, "GET", "/stats", "", "Authorization", "Bearer "+data); r.status != 403 {
		t.Fatalf("/stats with a data token: %d", r.status)
	}
	// A token is never accepted from the query string.
	if r := do(t, srv, "GET", "/buckets/b/keys/k?access_token="+data, ""); r.status != 401 {
		t.Fatalf("token in the query: %d", r.status)
	}
}
