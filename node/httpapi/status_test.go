package httpapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

// TestStatusCodes drives every status the API answers, each cause of each
// error status, through a real HTTP server.
func TestStatusCodes(t *testing.T) {
	const key = "/buckets/b/keys/k"
	type env = testEnv
	stored := func(t *testing.T, srv *httptest.Server, _ *env) { put(t, srv, key, "v1", "") }
	twoSiblings := func(t *testing.T, srv *httptest.Server, _ *env) {
		put(t, srv, key, "v1", "")
		put(t, srv, key, "v2", "")
	}
	deleted := func(t *testing.T, srv *httptest.Server, _ *env) {
		put(t, srv, key, "v1", "")
		must(t, http.StatusNoContent, srv, http.MethodDelete, key, "")
	}
	failing := func(method string, err error) func(*testing.T, *httptest.Server, *env) {
		return func(_ *testing.T, _ *httptest.Server, e *env) { e.kv.fail(method, err) }
	}
	ct := []string{"Content-Type", "text/plain"}
	hdr := func(kv ...string) []string { return append(append([]string{}, ct...), kv...) }
	past := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)
	future := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)

	tests := []struct {
		name     string
		setup    func(*testing.T, *httptest.Server, *env)
		method   string
		path     string
		body     string
		hdr      []string
		want     int
		wantBody string // substring of the body
		check    func(*testing.T, response)
	}{
		// 2xx
		{name: "200 get", setup: stored, method: "GET", path: key, want: 200, wantBody: "v1",
			check: func(t *testing.T, r response) {
				for _, h := range []string{"Etag", "Last-Modified", hdrVclock, "Link"} {
					if r.header.Get(h) == "" {
						t.Errorf("missing %s", h)
					}
				}
			}},
		{name: "200 head has headers, no body", setup: stored, method: "HEAD", path: key, want: 200,
			check: func(t *testing.T, r response) {
				if r.body != "" || r.header.Get("Content-Length") != "2" || r.header.Get("Content-Type") != "text/plain" {
					t.Errorf("HEAD: body %q, length %q, type %q", r.body, r.header.Get("Content-Length"), r.header.Get("Content-Type"))
				}
			}},
		{name: "200 put returnbody", method: "PUT", path: key + "?returnbody=true", body: "v", hdr: ct, want: 200, wantBody: "v",
			check: func(t *testing.T, r response) {
				if r.header.Get(hdrVclock) == "" {
					t.Error("returnbody without X-Riak-Vclock")
				}
			}},
		{name: "201 post create", method: "POST", path: "/buckets/b/keys", body: "v", hdr: ct, want: 201,
			check: func(t *testing.T, r response) {
				if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/buckets/b/keys/") || len(loc) != len("/buckets/b/keys/")+20 {
					t.Errorf("Location %q", loc)
				}
			}},
		{name: "201 typed post create", method: "POST", path: "/types/typed/buckets/b/keys", body: "v", hdr: ct, want: 201,
			check: func(t *testing.T, r response) {
				if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/types/typed/buckets/b/keys/") {
					t.Errorf("Location %q", loc)
				}
			}},
		{name: "204 put", method: "PUT", path: key, body: "v", hdr: ct, want: 204},
		{name: "204 post to key", method: "POST", path: key, body: "v", hdr: ct, want: 204},
		{name: "204 delete", setup: stored, method: "DELETE", path: key, want: 204},
		{name: "204 props put", method: "PUT", path: "/buckets/b/props", body: `{"props":{"n_val":2}}`,
			hdr: []string{"Content-Type", "application/json"}, want: 204},
		{name: "204 props delete", method: "DELETE", path: "/buckets/b/props", want: 204},

		// 300
		{name: "300 text", setup: twoSiblings, method: "GET", path: key, want: 300, wantBody: "Siblings:\n",
			check: func(t *testing.T, r response) {
				if r.header.Get("Content-Type") != "text/plain" || r.header.Get(hdrVclock) == "" {
					t.Errorf("headers %v", r.header)
				}
			}},
		{name: "300 multipart", setup: twoSiblings, method: "GET", path: key, hdr: []string{"Accept", "multipart/mixed"}, want: 300,
			check: func(t *testing.T, r response) {
				if !strings.HasPrefix(r.header.Get("Content-Type"), "multipart/mixed; boundary=") {
					t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
				}
			}},
		{name: "300 put returnbody with siblings", setup: stored, method: "PUT", path: key + "?returnbody=true", body: "v2", hdr: ct, want: 300},

		// 304
		{name: "304 if-none-match", setup: stored, method: "GET", path: key, hdr: []string{"If-None-Match", "*"}, want: 304},
		{name: "304 if-modified-since", setup: stored, method: "GET", path: key, hdr: []string{"If-Modified-Since", future}, want: 304},

		// 400
		{name: "400 empty key", method: "GET", path: "/buckets/b/keys/", want: 400, wantBody: "empty key"},
		{name: "400 empty bucket", method: "GET", path: "/buckets//keys/k", want: 400, wantBody: "empty bucket"},
		{name: "400 bad quorum", method: "GET", path: key + "?r=several", want: 400, wantBody: "r query parameter"},
		{name: "400 negative quorum", method: "PUT", path: key + "?w=-1", body: "v", hdr: ct, want: 400, wantBody: "w query parameter"},
		{name: "400 quorum too large", method: "GET", path: key + "?r=5", want: 400, wantBody: "exceeds n_val"},
		{name: "400 bad boolean", method: "GET", path: key + "?notfound_ok=maybe", want: 400, wantBody: "notfound_ok"},
		{name: "400 bad returnbody", method: "PUT", path: key + "?returnbody=yes", body: "v", hdr: ct, want: 400, wantBody: "returnbody"},
		{name: "400 bad timeout", method: "GET", path: key + "?timeout=soon", want: 400, wantBody: "timeout"},
		{name: "400 bad query escape", method: "GET", path: key + "?r=%zz", want: 400, wantBody: "malformed query"},
		{name: "400 missing content-type", method: "PUT", path: key, body: "v", want: 400, wantBody: "missing Content-Type"},
		{name: "400 malformed content-type", method: "PUT", path: key, body: "v", hdr: []string{"Content-Type", "text"}, want: 400, wantBody: "malformed Content-Type"},
		{name: "400 malformed vclock", method: "PUT", path: key, body: "v", hdr: hdr(hdrVclock, "not base64!"), want: 400, wantBody: "malformed causal context"},
		{name: "400 foreign vclock", method: "PUT", path: key, body: "v", want: 400, wantBody: "another key",
			setup: func(t *testing.T, srv *httptest.Server, e *env) {
				put(t, srv, "/buckets/b/keys/other", "x", "")
			}},
		{name: "400 malformed link", method: "PUT", path: key, body: "v", hdr: hdr("Link", "</buckets/b/keys/x; riaktag=\"t\""), want: 400, wantBody: "Link"},
		{name: "400 link to a non-key", method: "PUT", path: key, body: "v", hdr: hdr("Link", `</elsewhere>; riaktag="t"`), want: 400, wantBody: "links must be of the form"},
		{name: "400 bad props value", method: "PUT", path: "/buckets/b/props", body: `{"props":{"n_val":0}}`,
			hdr: []string{"Content-Type", "application/json"}, want: 400, wantBody: "n_val"},
		{name: "400 props quorum too large", method: "PUT", path: "/buckets/b/props", body: `{"props":{"r":7}}`,
			hdr: []string{"Content-Type", "application/json"}, want: 400, wantBody: "exceeds n_val"},
		{name: "400 malformed props JSON", method: "PUT", path: "/buckets/b/props", body: `{"props":`,
			hdr: []string{"Content-Type", "application/json"}, want: 400, wantBody: "malformed JSON"},
		{name: "400 props not wrapped", method: "PUT", path: "/buckets/b/props", body: `{"n_val":2}`,
			hdr: []string{"Content-Type", "application/json"}, want: 400, wantBody: `missing "props"`},
		{name: "400 key longer than the node allows", method: "PUT", path: "/buckets/b/keys/" + strings.Repeat("k", node.DefaultConfig().MaxKeyLen+1),
			body: "v", hdr: ct, want: 400, wantBody: fmt.Sprintf("maximum is %d", node.DefaultConfig().MaxKeyLen)},
		{name: "400 bucket longer than the ceiling", method: "GET", path: "/buckets/" + strings.Repeat("b", node.MaxBucketLen+1) + "/keys/k",
			want: 400, wantBody: "bucket longer than"},
		{name: "400 vclock not a clock", method: "PUT", path: key, body: "v", hdr: hdr(hdrVclock, "AAAAAAAA"), want: 400, wantBody: "malformed causal context"},
		{name: "400 garbage props JSON", method: "PUT", path: "/buckets/b/props", body: "\x00\xffnot json at all",
			hdr: []string{"Content-Type", "application/json"}, want: 400, wantBody: "malformed JSON"},
		{name: "400 keys without keys=", method: "GET", path: "/buckets/b/keys", want: 400, wantBody: "?keys=true"},
		{name: "400 buckets without buckets=", method: "GET", path: "/buckets", want: 400, wantBody: "?buckets=true"},
		{name: "400 node bad request", setup: failing("Get", fmt.Errorf("%w: something odd", node.ErrBadRequest)),
			method: "GET", path: key, want: 400, wantBody: "something odd"},

		// 404
		{name: "404 not found", method: "GET", path: key, want: 404, wantBody: "not found",
			check: func(t *testing.T, r response) {
				if r.header.Get(hdrVclock) != "" {
					t.Error("404 of a never-written key carries a vclock")
				}
			}},
		{name: "404 tombstone carries vclock", setup: deleted, method: "GET", path: key, want: 404,
			check: func(t *testing.T, r response) {
				if r.header.Get(hdrVclock) == "" {
					t.Error("404 of a tombstone without X-Riak-Vclock")
				}
			}},
		{name: "404 unknown vtag", setup: stored, method: "GET", path: key + "?vtag=nope", want: 404, wantBody: "vtag"},
		{name: "404 delete missing", method: "DELETE", path: key, want: 404},
		{name: "404 unknown bucket type", method: "GET", path: "/types/nope/buckets/b/keys/k", want: 404, wantBody: "unknown bucket type"},
		{name: "404 unknown path", method: "GET", path: "/buckets/b/elsewhere", want: 404, wantBody: "no such resource"},
		{name: "404 unknown top-level path", method: "GET", path: "/nothing", want: 404},

		// 405
		{name: "405 patch object", method: "PATCH", path: key, want: 405, wantBody: "not allowed",
			check: func(t *testing.T, r response) {
				if r.header.Get("Allow") == "" {
					t.Error("405 without Allow")
				}
			}},
		{name: "405 delete buckets", method: "DELETE", path: "/buckets", want: 405},
		{name: "405 post props", method: "POST", path: "/buckets/b/props", want: 405},
		{name: "405 post ping", method: "POST", path: "/ping", want: 405},

		// 409
		{name: "409 too many siblings", setup: failing("Put", fmt.Errorf("%w: the write would give default/b/k 101 siblings", node.ErrTooManySiblings)),
			method: "PUT", path: key, body: "v", hdr: ct, want: 409, wantBody: "too many siblings"},

		// 412
		{name: "412 if-none-match * on existing", setup: stored, method: "PUT", path: key, body: "v", hdr: hdr("If-None-Match", "*"), want: 412},
		{name: "412 if-match other etag", setup: stored, method: "PUT", path: key, body: "v", hdr: hdr("If-Match", `"other"`), want: 412},
		{name: "412 if-match on missing key", method: "PUT", path: key, body: "v", hdr: hdr("If-Match", "*"), want: 412},
		{name: "412 if-unmodified-since", setup: stored, method: "PUT", path: key, body: "v", hdr: hdr("If-Unmodified-Since", past), want: 412},
		{name: "412 delete if-match", setup: stored, method: "DELETE", path: key, hdr: []string{"If-Match", `"other"`}, want: 412},
		{name: "412 get if-match", setup: stored, method: "GET", path: key, hdr: []string{"If-Match", `"other"`}, want: 412},

		// 413
		{name: "413 body too large", method: "PUT", path: key, body: strings.Repeat("x", 1<<20+1), hdr: ct, want: 413, wantBody: "larger than"},
		{name: "413 node too large", setup: failing("Put", node.ErrTooLarge), method: "PUT", path: key, body: "v", hdr: ct, want: 413},

		// 415
		{name: "415 props not JSON", method: "PUT", path: "/buckets/b/props", body: `{"props":{}}`, hdr: ct, want: 415, wantBody: "application/json"},

		// 503
		{name: "503 quorum not met", setup: failing("Get", fmt.Errorf("%w: 1 of 2 replicas replied", node.ErrQuorumNotMet)),
			method: "GET", path: key, want: 503, wantBody: "1 of 2 replicas replied"},
		{name: "503 put quorum not met", setup: failing("Put", fmt.Errorf("%w: 1 of 2 replicas replied", node.ErrQuorumNotMet)),
			method: "PUT", path: key, body: "v", hdr: ct, want: 503, wantBody: "quorum not met"},
		{name: "503 closed", setup: failing("Delete", node.ErrClosed), method: "DELETE", path: key, want: 503, wantBody: "closed"},
		{name: "503 timeout", setup: failing("Get", context.DeadlineExceeded), method: "GET", path: key + "?timeout=50", want: 503, wantBody: "timeout"},

		// 500
		{name: "500 unexpected error", setup: failing("Get", errors.New("disk on fire")), method: "GET", path: key, want: 500, wantBody: "disk on fire"},
		{name: "500 panic", setup: func(_ *testing.T, _ *httptest.Server, e *env) { e.kv.panicOn("Get") },
			method: "GET", path: key, want: 500, wantBody: "panicked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, e := newTestServer(t)
			if tc.setup != nil {
				tc.setup(t, srv, e)
			}
			h := tc.hdr
			if tc.name == "400 foreign vclock" {
				other := must(t, 200, srv, "GET", "/buckets/b/keys/other", "")
				h = hdr(hdrVclock, other.header.Get(hdrVclock))
			}
			r := do(t, srv, tc.method, tc.path, tc.body, h...)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d; body %q", r.status, tc.want, r.body)
			}
			if tc.wantBody != "" && !strings.Contains(r.body, tc.wantBody) {
				t.Errorf("body %q does not contain %q", r.body, tc.wantBody)
			}
			if r.status >= 400 {
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("error answered as %q, want text/plain", ct)
				}
				if strings.TrimSpace(r.body) == "" {
					t.Error("error without a message")
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// TestPanicIsLogged checks that a recovered panic leaves its stack in the log.
func TestPanicIsLogged(t *testing.T) {
	srv, e := newTestServer(t)
	e.kv.panicOn("Put")
	must(t, 500, srv, "PUT", "/buckets/b/keys/k", "v", "Content-Type", "text/plain")
	if logs := e.logs.String(); !strings.Contains(logs, "injected panic in Put") || !strings.Contains(logs, "goroutine") {
		t.Errorf("panic not logged with its stack:\n%s", logs)
	}
	// The server still serves.
	must(t, 200, srv, "GET", "/ping", "")
}

// TestLargeObjectWarning: above WarnObjectSize the value is stored and a
// warning logged.
func TestLargeObjectWarning(t *testing.T) {
	srv, e := newTestServer(t)
	big := strings.Repeat("x", int(e.cfg.WarnObjectSize)+1)
	put(t, srv, "/buckets/b/keys/big", big, "")
	if !strings.Contains(e.logs.String(), "large object") {
		t.Errorf("no warning logged:\n%s", e.logs.String())
	}
	if r := must(t, 200, srv, "GET", "/buckets/b/keys/big", ""); len(r.body) != len(big) {
		t.Errorf("stored %d bytes, read %d", len(big), len(r.body))
	}
}

// TestBodyLimitChunked: a body without Content-Length is cut at the limit.
func TestBodyLimitChunked(t *testing.T) {
	srv, e := newTestServer(t)
	pr, pw := ioPipe()
	go func() {
		chunk := make([]byte, 64<<10)
		for i := int64(0); i <= e.cfg.MaxObjectSize/int64(len(chunk))+1; i++ {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("PUT", srv.URL+"/buckets/b/keys/k", pr)
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	pr.Close()
	if res.StatusCode != 413 {
		t.Fatalf("status %d, want 413", res.StatusCode)
	}
	if _, err := e.kv.Get(context.Background(), node.Location{Type: "default", Bucket: "b", Key: "k"}, node.DefaultGetOptions()); !errors.Is(err, node.ErrNotFound) {
		t.Errorf("a refused body was stored: %v", err)
	}
}

// TestVclockIsBoundToKey: the context a read returns is accepted on that key
// only, and the 404 of a tombstone carries one that decodes for the key.
func TestVclockIsBoundToKey(t *testing.T) {
	srv, _ := newTestServer(t)
	put(t, srv, "/buckets/b/keys/k", "v", "")
	must(t, 204, srv, "DELETE", "/buckets/b/keys/k", "")
	r := must(t, 404, srv, "GET", "/buckets/b/keys/k", "")
	loc := node.Location{Type: "default", Bucket: "b", Key: "k"}
	if _, err := object.DecodeContext(r.header.Get(hdrVclock), loc.Bytes()); err != nil {
		t.Fatalf("tombstone vclock: %v", err)
	}
	other := node.Location{Type: "default", Bucket: "b", Key: "k2"}
	if _, err := object.DecodeContext(r.header.Get(hdrVclock), other.Bytes()); !errors.Is(err, object.ErrForeignContext) {
		t.Fatalf("vclock accepted for another key: %v", err)
	}
}

// TestMalformedPath: a bad %-escape in a path is a 400, whether net/http
// refuses the request line or the router sees it.
func TestMalformedPath(t *testing.T) {
	srv, _ := newTestServer(t)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /buckets/b/keys/%%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("raw request: status %d, want 400", res.StatusCode)
	}

	// net/http never hands the router an invalid escape (EscapedPath
	// re-escapes it), but the router refuses one all the same.
	if _, _, err := parseRoute("/buckets/b/keys/%zz"); statusFor(err) != 400 {
		t.Errorf("parseRoute: %v", err)
	}
}
