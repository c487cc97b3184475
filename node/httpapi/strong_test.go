package httpapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/node"
)

// TestStrongWrites: on a consistent bucket type a write must name the
// current version (or create an absent key), else 412; the metadata plane
// checks that atomically, so If-None-Match: * is passed on, not emulated.
func TestStrongWrites(t *testing.T) {
	srv, _ := newStrongTestServer(t)
	const key = "/types/strong/buckets/b/keys/k"
	text := []string{"Content-Type", "text/plain"}

	put(t, srv, key, "v1", "") // create without a context
	r := must(t, 200, srv, "GET", key, "")
	v1 := r.header.Get(hdrVclock)
	if r.body != "v1" || v1 == "" {
		t.Fatalf("GET after create: %q, vclock %q", r.body, v1)
	}
	must(t, 412, srv, "PUT", key, "blind", text...) // exists, no context
	put(t, srv, key, "v2", v1)
	r = must(t, 412, srv, "PUT", key, "stale", append(text, hdrVclock, v1)...)
	if !strings.Contains(r.body, "conflict") {
		t.Errorf("412 body %q does not say why", r.body)
	}
	r = must(t, 200, srv, "GET", key, "")
	if r.body != "v2" {
		t.Fatalf("after the refused writes: %q", r.body)
	}
	v2 := r.header.Get(hdrVclock)

	// If-None-Match: * creates once.
	const fresh = "/types/strong/buckets/b/keys/fresh"
	must(t, 204, srv, "PUT", fresh, "first", append(text, "If-None-Match", "*")...)
	must(t, 412, srv, "PUT", fresh, "second", append(text, "If-None-Match", "*")...)
	if r := must(t, 200, srv, "GET", fresh, ""); r.body != "first" {
		t.Fatalf("If-None-Match: * overwrote: %q", r.body)
	}
	// POST to the keys makes a new key, so it creates.
	must(t, 201, srv, "POST", "/types/strong/buckets/b/keys", "posted", text...)

	// A delete needs the current context.
	must(t, 412, srv, "DELETE", key, "")
	must(t, 412, srv, "DELETE", key, "", hdrVclock, v1)
	must(t, 204, srv, "DELETE", key, "", hdrVclock, v2)
	r = must(t, 404, srv, "GET", key, "")
	must(t, 404, srv, "DELETE", key, "", hdrVclock, v2)
	// A deleted key can be created again, with If-None-Match: * too.
	must(t, 204, srv, "PUT", key, "v3", append(text, "If-None-Match", "*")...)

	r = must(t, 200, srv, "GET", "/types/strong/buckets/b/keys?keys=true", "")
	for _, k := range []string{`"k"`, `"fresh"`} {
		if !strings.Contains(r.body, k) {
			t.Errorf("keys %s lack %s", r.body, k)
		}
	}
	// Other types keep the emulation, and blind writes make siblings.
	must(t, 204, srv, "PUT", "/buckets/b/keys/k", "a", append(text, "If-None-Match", "*")...)
	must(t, 412, srv, "PUT", "/buckets/b/keys/k", "b", append(text, "If-None-Match", "*")...)
	put(t, srv, "/buckets/b/keys/k", "c", "")
	must(t, 300, srv, "GET", "/buckets/b/keys/k", "")
}

// TestStrongUnavailable: a metadata plane without a quorum is a 503 that
// says so.
func TestStrongUnavailable(t *testing.T) {
	srv, env := newStrongTestServer(t)
	const key = "/types/strong/buckets/b/keys/k"
	env.md.Fail(fmt.Errorf("test: no leader: %w", node.ErrUnavailable))
	for _, req := range [][2]string{{"GET", key}, {"PUT", key}, {"DELETE", key}} {
		r := must(t, 503, srv, req[0], req[1], "v", "Content-Type", "text/plain")
		if !strings.Contains(r.body, "no leader") {
			t.Errorf("%s: body %q", req[0], r.body)
		}
	}
	env.md.Fail(nil)
	put(t, srv, key, "v", "")
}

// TestTypeProps: GET and PUT /types/T/props, through the metadata plane.
func TestTypeProps(t *testing.T) {
	srv, _ := newStrongTestServer(t)
	r := must(t, 200, srv, "GET", "/types/strong/props", "")
	if !strings.HasPrefix(r.body, `{"props":{`) || !strings.Contains(r.body, `"consistent":true`) {
		t.Fatalf("GET type props: %s", r.body)
	}
	must(t, 204, srv, "PUT", "/types/strong/props", r.body, "Content-Type", "application/json") // round trip
	must(t, 204, srv, "PUT", "/types/typed/props", `{"props":{"r":1}}`, "Content-Type", "application/json")
	if r := must(t, 200, srv, "GET", "/types/typed/props", ""); !strings.Contains(r.body, `"r":1`) {
		t.Fatalf("after set: %s", r.body)
	}
	// A bucket without overrides follows its type.
	if r := must(t, 200, srv, "GET", "/types/typed/buckets/b/props", ""); !strings.Contains(r.body, `"r":1`) {
		t.Fatalf("bucket props after the type's changed: %s", r.body)
	}
	must(t, 400, srv, "PUT", "/types/strong/props", `{"props":{"consistent":false}}`, "Content-Type", "application/json")
	must(t, 400, srv, "PUT", "/types/strong/props", `{"props":{"colour":"red"}}`, "Content-Type", "application/json")
	must(t, 415, srv, "PUT", "/types/strong/props", `{"props":{}}`, "Content-Type", "text/plain")
	must(t, 404, srv, "GET", "/types/nope/props", "")
	must(t, 404, srv, "PUT", "/types/nope/props", `{"props":{}}`, "Content-Type", "application/json")
	must(t, 405, srv, "DELETE", "/types/strong/props", "")
	must(t, 404, srv, "GET", "/types/strong/props/x", "")
}

// TestTypePropsAlone: a node without a metadata plane shows its types'
// properties but cannot change them.
func TestTypePropsAlone(t *testing.T) {
	srv, _ := newTestServer(t)
	if r := must(t, 200, srv, "GET", "/types/typed/props", ""); !strings.Contains(r.body, `"n_val":2`) {
		t.Fatalf("GET type props: %s", r.body)
	}
	r := must(t, 400, srv, "PUT", "/types/typed/props", `{"props":{"r":1}}`, "Content-Type", "application/json")
	if !strings.Contains(r.body, "metadata plane") {
		t.Errorf("400 body %q does not say why", r.body)
	}
	must(t, 404, srv, "PUT", "/types/nope/props", `{"props":{}}`, "Content-Type", "application/json")
	// Nor can a bucket make itself consistent.
	must(t, 400, srv, "PUT", "/buckets/b/props", `{"props":{"consistent":true}}`, "Content-Type", "application/json")
}

// TestStrongCreateIsNotEmulated: If-None-Match: * on a consistent type
// does not read first (a read-then-write would race); elsewhere it does.
func TestStrongCreateIsNotEmulated(t *testing.T) {
	srv, env := newStrongTestServer(t)
	env.kv.fail("Get", fmt.Errorf("%w: test: reads are off", node.ErrQuorumNotMet))
	hdr := []string{"Content-Type", "text/plain", "If-None-Match", "*"}
	must(t, 204, srv, "PUT", "/types/strong/buckets/b/keys/k", "v", hdr...)
	must(t, 412, srv, "PUT", "/types/strong/buckets/b/keys/k", "v", hdr...)
	must(t, 503, srv, "PUT", "/buckets/b/keys/k", "v", hdr...)
}
