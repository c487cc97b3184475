package httpapi

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/node"
)

// TestRiakStoreAndFetch follows Riak's "store an object" and "fetch an
// object" curl examples: meta, links and content type come back as stored.
func TestRiakStoreAndFetch(t *testing.T) {
	srv, env := newTestServer(t)
	// curl -XPUT http://localhost:8098/types/default/buckets/test/keys/doc \
	//   -H "Content-Type: application/json; charset=UTF-8" \
	//   -H "X-Riak-Meta-Color: red" \
	//   -H 'Link: </buckets/test/keys/doc2>; riaktag="next"' \
	//   -d '{"foo":"bar"}'
	must(t, 204, srv, "PUT", "/types/default/buckets/test/keys/doc", `{"foo":"bar"}`,
		"Content-Type", "application/json; charset=UTF-8",
		"X-Riak-Meta-Color", "red",
		"Link", `</buckets/test/keys/doc2>; riaktag="next", </riak/test/doc3>; riaktag="prev+one"`,
		"Content-Encoding", "identity")
	env.clock.Advance(time.Minute)

	for _, path := range []string{"/types/default/buckets/test/keys/doc", "/buckets/test/keys/doc", "/riak/test/doc"} {
		r := must(t, 200, srv, "GET", path, "")
		if r.body != `{"foo":"bar"}` {
			t.Errorf("%s: body %q", path, r.body)
		}
		want := map[string]string{
			"Content-Type":      "application/json; charset=UTF-8",
			"X-Riak-Meta-Color": "red",
			"Content-Encoding":  "identity",
			"Last-Modified":     "Fri, 01 Mar 2024 12:00:00 GMT",
		}
		for h, v := range want {
			if got := r.header.Get(h); got != v {
				t.Errorf("%s: %s = %q, want %q", path, h, got, v)
			}
		}
		etag := r.header.Get("Etag")
		if len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' {
			t.Errorf("%s: ETag %q is not a quoted tag", path, etag)
		}
		links, err := parseLinks(r.header.Values("Link"))
		if err != nil {
			t.Fatalf("%s: returned Link does not parse: %v", path, err)
		}
		if len(links) != 2 || links[0].Bucket != "test" || links[0].Key != "doc2" || links[0].Tag != "next" ||
			links[1].Key != "doc3" || links[1].Tag != "prev one" {
			t.Errorf("%s: links %+v", path, links)
		}
		up := `</buckets/test>; rel="up"`
		if strings.HasPrefix(path, "/riak/") {
			up = `</riak/test>; rel="up"`
		} else if strings.HasPrefix(path, "/types/") {
			up = `</types/default/buckets/test>; rel="up"`
		}
		if !strings.HasPrefix(r.header.Get("Link"), up) {
			t.Errorf("%s: Link %q does not start with %s", path, r.header.Get("Link"), up)
		}
	}

	// The Link header a GET returns can be sent back as is.
	r := must(t, 200, srv, "GET", "/buckets/test/keys/doc", "")
	must(t, 204, srv, "PUT", "/buckets/test/keys/doc", "x", "Content-Type", "text/plain",
		"Link", r.header.Get("Link"), hdrVclock, r.header.Get(hdrVclock))
	r2 := must(t, 200, srv, "GET", "/buckets/test/keys/doc", "")
	if r2.header.Get("Link") != r.header.Get("Link") {
		t.Errorf("Link after round trip %q, want %q", r2.header.Get("Link"), r.header.Get("Link"))
	}
}

// TestRiakSiblingsFlow follows Riak's conflict-resolution walkthrough:
// allow_mult, two blind writes, 300, fetch each sibling by vtag, resolve
// with the vclock of the 300, then a single value.
func TestRiakSiblingsFlow(t *testing.T) {
	srv, _ := newTestServer(t)
	const key = "/types/default/buckets/siblings/keys/coach"
	must(t, 204, srv, "PUT", "/types/default/buckets/siblings/props", `{"props":{"allow_mult":true}}`,
		"Content-Type", "application/json")

	put(t, srv, key, "Pete Carroll", "")
	put(t, srv, key, "Jim Harbaugh", "")

	r := must(t, 300, srv, "GET", key, "")
	tags := siblingVtags(t, r.body)
	if len(tags) != 2 {
		t.Fatalf("siblings %q", tags)
	}
	vclock := r.header.Get(hdrVclock)
	var values []string
	for _, tag := range tags {
		s := must(t, 200, srv, "GET", key+"?vtag="+url.QueryEscape(tag), "")
		if s.header.Get("Etag") != `"`+tag+`"` {
			t.Errorf("vtag %s answered with ETag %s", tag, s.header.Get("Etag"))
		}
		if s.header.Get(hdrVclock) != vclock {
			t.Errorf("sibling fetch vclock %q differs from the 300's %q", s.header.Get(hdrVclock), vclock)
		}
		values = append(values, s.body)
	}
	sort.Strings(values)
	if !slices.Equal(values, []string{"Jim Harbaugh", "Pete Carroll"}) {
		t.Errorf("sibling values %q", values)
	}

	// Resolve: a PUT with the 300's vclock supersedes both.
	put(t, srv, key, "Jim Harbaugh", vclock)
	r = must(t, 200, srv, "GET", key, "")
	if r.body != "Jim Harbaugh" {
		t.Errorf("resolved value %q", r.body)
	}

	// A stale context (the 300's again) makes a sibling, never a loss.
	put(t, srv, key, "Pete Carroll", vclock)
	must(t, 300, srv, "GET", key, "")
}

// TestMultipartRoundTrip reads a multipart 300 with mime/multipart and
// checks every part describes its sibling.
func TestMultipartRoundTrip(t *testing.T) {
	srv, _ := newTestServer(t)
	const key = "/buckets/b/keys/k"
	must(t, 204, srv, "PUT", key, `{"a":1}`, "Content-Type", "application/json", "X-Riak-Meta-Who", "one")
	must(t, 204, srv, "PUT", key, "two", "Content-Type", "text/plain; charset=latin1",
		"Link", `</buckets/b/keys/x%2Fy>; riaktag="to x"`)
	must(t, 204, srv, "PUT", key, "\x00\x01binary", "Content-Type", "application/octet-stream", "Content-Encoding", "x-test")

	for _, accept := range []string{"multipart/mixed", "text/plain;q=0.5, multipart/mixed", "multipart/*", "multipart/mixed, */*"} {
		r := must(t, 300, srv, "GET", key, "", "Accept", accept)
		mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
		if err != nil || mt != "multipart/mixed" {
			t.Fatalf("Accept %q: Content-Type %q", accept, r.header.Get("Content-Type"))
		}
		if r.header.Get(hdrVclock) == "" {
			t.Error("multipart 300 without X-Riak-Vclock")
		}
		mr := multipart.NewReader(strings.NewReader(r.body), params["boundary"])
		type part struct{ ct, etag, meta, link, enc, body string }
		var parts []part
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(p)
			if p.Header.Get("Last-Modified") == "" {
				t.Error("part without Last-Modified")
			}
			parts = append(parts, part{p.Header.Get("Content-Type"), p.Header.Get("Etag"),
				p.Header.Get("X-Riak-Meta-Who"), p.Header.Get("Link"), p.Header.Get("Content-Encoding"), string(b)})
		}
		if len(parts) != 3 {
			t.Fatalf("%d parts", len(parts))
		}
		byBody := map[string]part{}
		for _, p := range parts {
			byBody[p.body] = p
			// Each part's Etag is the bare vtag, fetchable with ?vtag=.
			s := must(t, 200, srv, "GET", key+"?vtag="+url.QueryEscape(p.etag), "")
			if s.body != p.body {
				t.Errorf("vtag %s: body %q, part body %q", p.etag, s.body, p.body)
			}
		}
		if p := byBody[`{"a":1}`]; p.ct != "application/json" || p.meta != "one" {
			t.Errorf("json part %+v", p)
		}
		if p := byBody["two"]; p.ct != "text/plain; charset=latin1" ||
			!strings.Contains(p.link, `</buckets/b/keys/x%2Fy>; riaktag="to+x"`) {
			t.Errorf("text part %+v", p)
		}
		if p := byBody["\x00\x01binary"]; p.enc != "x-test" {
			t.Errorf("binary part %+v", p)
		}
	}
	// Without multipart in Accept: the text list.
	for _, accept := range []string{"", "*/*", "text/plain", "application/json", "multipart/mixed;q=0.1, text/plain"} {
		r := must(t, 300, srv, "GET", key, "", "Accept", accept)
		if len(siblingVtags(t, r.body)) != 3 {
			t.Errorf("Accept %q: %q", accept, r.body)
		}
	}
}

// TestDeleteFlow: delete, 404 with the tombstone's vclock, write over the
// tombstone with it: one value, no sibling with the delete.
func TestDeleteFlow(t *testing.T) {
	srv, _ := newTestServer(t)
	const key = "/buckets/b/keys/k"
	put(t, srv, key, "v1", "")
	r := must(t, 200, srv, "GET", key, "")
	must(t, 204, srv, "DELETE", key, "", hdrVclock, r.header.Get(hdrVclock))
	nf := must(t, 404, srv, "GET", key, "")
	must(t, 404, srv, "DELETE", key, "")
	put(t, srv, key, "v2", nf.header.Get(hdrVclock))
	if r := must(t, 200, srv, "GET", key, ""); r.body != "v2" {
		t.Errorf("after resurrect: %q", r.body)
	}
	// A deleted sibling is not listed, and not fetchable by vtag.
	must(t, 204, srv, "DELETE", key, "")
	rk := must(t, 200, srv, "GET", "/buckets/b/keys?keys=true", "")
	if rk.body != `{"keys":[]}` {
		t.Errorf("keys after delete: %s", rk.body)
	}
}

// TestConditionalWrites: If-Match with the ETag replaces that version
// (even without X-Riak-Vclock), If-None-Match: * creates only once.
func TestConditionalWrites(t *testing.T) {
	srv, env := newTestServer(t)
	const key = "/buckets/b/keys/k"
	must(t, 204, srv, "PUT", key, "v1", "Content-Type", "text/plain", "If-None-Match", "*")
	must(t, 412, srv, "PUT", key, "v1", "Content-Type", "text/plain", "If-None-Match", "*")
	r := must(t, 200, srv, "GET", key, "")
	etag := r.header.Get("Etag")
	must(t, 204, srv, "PUT", key, "v2", "Content-Type", "text/plain", "If-Match", etag)
	if r := must(t, 200, srv, "GET", key, ""); r.body != "v2" {
		t.Fatalf("If-Match write made siblings or was lost: %d %q", r.status, r.body)
	}
	must(t, 412, srv, "PUT", key, "v3", "Content-Type", "text/plain", "If-Match", etag) // stale now
	// Unquoted and listed tags match too.
	r = must(t, 200, srv, "GET", key, "")
	bare := strings.Trim(r.header.Get("Etag"), `"`)
	must(t, 304, srv, "GET", key, "", "If-None-Match", `"x", `+bare)
	must(t, 200, srv, "GET", key, "", "If-None-Match", `W/"x"`)
	lm := r.header.Get("Last-Modified")
	must(t, 304, srv, "GET", key, "", "If-Modified-Since", lm)
	env.clock.Advance(2 * time.Second)
	must(t, 204, srv, "PUT", key, "v3", "Content-Type", "text/plain", "If-Unmodified-Since", lm)
	must(t, 200, srv, "GET", key, "", "If-Modified-Since", lm)
	must(t, 412, srv, "DELETE", key, "", "If-Unmodified-Since", lm)
	r = must(t, 200, srv, "GET", key, "")
	must(t, 204, srv, "DELETE", key, "", "If-Match", r.header.Get("Etag"))
	must(t, 404, srv, "GET", key, "")

	// A create over a tombstone supersedes it: no delete left as a sibling.
	must(t, 204, srv, "PUT", key, "v4", "Content-Type", "text/plain", "If-None-Match", "*")
	o, err := env.kv.Get(context.Background(), node.Location{Type: "default", Bucket: "b", Key: "k"}, node.DefaultGetOptions())
	if err != nil || o.Len() != 1 {
		t.Errorf("after create over a tombstone: %v, %d siblings", err, o.Len())
	}
}

// TestEncodedKeys: keys with "/", spaces, "+", "..", "%" and non-ASCII
// survive the path, the listing and a POST's Location.
func TestEncodedKeys(t *testing.T) {
	srv, _ := newTestServer(t)
	keys := map[string]string{ // key → how a client sends it
		"a/b":        "a%2Fb",
		"with space": "with%20space",
		"plus space": "plus+space", // Riak: "+" is a space
		"a+b":        "a%2Bb",
		"..":         "%2E%2E",
		"../x":       "..%2Fx",
		"100%":       "100%25",
		"ключ":       url.PathEscape("ключ"),
		"q?x=1#y":    url.PathEscape("q?x=1#y"),
	}
	for key, esc := range keys {
		for _, prefix := range []string{"/buckets/my%20bucket/keys/", "/types/typed/buckets/my+bucket/keys/"} {
			path := prefix + esc
			put(t, srv, path, "value of "+key, "")
			if r := must(t, 200, srv, "GET", path, ""); r.body != "value of "+key {
				t.Errorf("%s: %q", path, r.body)
			}
			// The canonical escaping reaches the same key.
			if r := must(t, 200, srv, "GET", prefix+url.QueryEscape(key), ""); r.body != "value of "+key {
				t.Errorf("%s via QueryEscape: %q", key, r.body)
			}
		}
	}
	r := must(t, 200, srv, "GET", "/buckets/my%20bucket/keys?keys=true", "")
	for key := range keys {
		if !strings.Contains(r.body, mustJSON(t, key)) {
			t.Errorf("listing %s lacks %q", r.body, key)
		}
	}
	rb := must(t, 200, srv, "GET", "/types/typed/buckets?buckets=true", "")
	if rb.body != `{"buckets":["my bucket"]}` {
		t.Errorf("buckets %s", rb.body)
	}

	// A POST-created key's Location is fetchable as given.
	c := must(t, 201, srv, "POST", "/buckets/a%2Fb/keys?returnbody=true", "new", "Content-Type", "text/plain")
	if c.body != "new" {
		t.Errorf("201 returnbody body %q", c.body)
	}
	if r := must(t, 200, srv, "GET", c.header.Get("Location"), ""); r.body != "new" {
		t.Errorf("GET Location %s: %q", c.header.Get("Location"), r.body)
	}
	lc := must(t, 201, srv, "POST", "/riak/legacy", "old", "Content-Type", "text/plain")
	if loc := lc.header.Get("Location"); !strings.HasPrefix(loc, "/riak/legacy/") {
		t.Errorf("legacy Location %q", loc)
	} else if r := must(t, 200, srv, "GET", loc, ""); r.body != "old" {
		t.Errorf("GET legacy Location: %q", r.body)
	}
}

// TestPropsFlow: read, set, read back, reset; what GET returns can be PUT.
func TestPropsFlow(t *testing.T) {
	srv, _ := newTestServer(t)
	for name, base := range map[string]string{"b1": "/buckets/b1/props", "b2": "/types/typed/buckets/b2/props", "b3": "/riak/b3"} {
		r := must(t, 200, srv, "GET", base, "")
		if r.header.Get("Content-Type") != "application/json" || !strings.Contains(r.body, `"name":"`+name+`"`) ||
			!strings.Contains(r.body, `"allow_mult":true`) || !strings.Contains(r.body, `"r":"quorum"`) {
			t.Errorf("%s: %s", base, r.body)
		}
		must(t, 204, srv, "PUT", base, r.body, "Content-Type", "application/json") // round trip
		must(t, 204, srv, "PUT", base, `{"props":{"n_val":1,"r":1,"w":"one","dw":0,"rw":1,"pr":0,"pw":0}}`, "Content-Type", "application/json; charset=utf-8")
		if r := must(t, 200, srv, "GET", base, ""); !strings.Contains(r.body, `"n_val":1`) || !strings.Contains(r.body, `"w":"one"`) {
			t.Errorf("%s after set: %s", base, r.body)
		}
		must(t, 400, srv, "PUT", base, `{"props":{"colour":"red"}}`, "Content-Type", "application/json")
		must(t, 400, srv, "PUT", base, `{"props":[1]}`, "Content-Type", "application/json")
		must(t, 400, srv, "PUT", base, `{"props":{}} trailing`, "Content-Type", "application/json")
	}
	must(t, 204, srv, "DELETE", "/buckets/b/props", "")
	if r := must(t, 200, srv, "GET", "/buckets/b/props", ""); !strings.Contains(r.body, `"n_val":3`) {
		t.Errorf("after reset: %s", r.body)
	}
	must(t, 404, srv, "GET", "/types/nope/buckets/b/props", "")
	must(t, 404, srv, "PUT", "/types/nope/buckets/b/props", `{"props":{}}`, "Content-Type", "application/json")
	must(t, 413, srv, "PUT", "/buckets/b/props", `{"props":{"x":"`+strings.Repeat("x", 1<<20)+`"}}`, "Content-Type", "application/json")
}

// TestQuorumParams: each quorum spelling reaches the KV (which checks it
// against n_val).
func TestQuorumParams(t *testing.T) {
	srv, env := newTestServer(t)
	const key = "/buckets/b/keys/k"
	for _, q := range []string{"one", "quorum", "all", "default", "2", "QUORUM"} {
		must(t, 204, srv, "PUT", key+q+"?w="+q+"&dw="+q+"&pw="+q, "v", "Content-Type", "text/plain")
		// With w=one the PUT answers before the other replicas have the
		// value, and a read with notfound_ok=false and basic_quorum may
		// then rightly answer 404: let the write's tail land first.
		env.node.WaitIdle()
		must(t, 200, srv, "GET", key+q+"?r="+q+"&pr="+q+"&basic_quorum=true&notfound_ok=false", "")
	}
	must(t, 400, srv, "PUT", key+"?dw=4", "v", "Content-Type", "text/plain")
	must(t, 400, srv, "DELETE", key+"?rw=4", "")
	must(t, 400, srv, "GET", "/types/typed/buckets/b/keys/k?r=3", "") // typed has n_val 2
}

func TestPingStatsMetricsPprof(t *testing.T) {
	srv, _ := newTestServer(t)
	if r := must(t, 200, srv, "GET", "/ping", ""); r.body != "OK\n" {
		t.Errorf("ping %q", r.body)
	}
	if r := must(t, 200, srv, "GET", "/stats", ""); !strings.Contains(r.body, `"nodename":"test-node"`) ||
		r.header.Get("Content-Type") != "application/json" {
		t.Errorf("stats %s", r.body)
	}
	must(t, 404, srv, "GET", "/buckets/b/keys/k", "")
	must(t, 200, srv, "GET", "/debug/pprof/", "")
	r := must(t, 200, srv, "GET", "/metrics", "")
	for _, want := range []string{
		`cairn_http_requests_total{code="404",method="GET",route="object"} 1`,
		`cairn_http_requests_total{code="200",method="GET",route="ping"} 1`,
		`cairn_http_request_duration_seconds_bucket{code="200",method="GET",route="stats",le=`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestPprofOffByDefault(t *testing.T) {
	api, err := New(DefaultConfig(), newTestEnv(t, false).kv, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/debug/pprof/", "/metrics"} {
		rec := httptestRecorder(api, "GET", path)
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d without pprof / registry", path, rec.Code)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for name, mod := range map[string]func(*Config){
		"zero max":        func(c *Config) { c.MaxObjectSize = 0 },
		"warn above max":  func(c *Config) { c.WarnObjectSize = c.MaxObjectSize + 1 },
		"negative warn":   func(c *Config) { c.WarnObjectSize = -1 },
		"zero props size": func(c *Config) { c.MaxPropsSize = 0 },
		"zero batch":      func(c *Config) { c.ListBatchSize = 0 },
	} {
		c := DefaultConfig()
		mod(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := New(c, newTestEnv(t, false).kv, nil, nil); err == nil {
			t.Errorf("%s: New accepted", name)
		}
	}
	if _, err := New(DefaultConfig(), nil, nil, nil); err == nil {
		t.Error("New accepted a nil KV")
	}
}

// TestSharedRegistry: two APIs on one registry share the HTTP metrics.
func TestSharedRegistry(t *testing.T) {
	_, env := newTestServer(t)
	if _, err := New(testConfig(), env.kv, nil, env.reg); err != nil {
		t.Fatalf("second API on the registry: %v", err)
	}
}
