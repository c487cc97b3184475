package client

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNodeURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8098":              "http://127.0.0.1:8098",
		"http://h:1/":                 "http://h:1",
		"https://h:1/cairn/":          "https://h:1/cairn",
		" node1:8098 ":                "http://node1:8098",
		"ftp://h:1":                   "",
		"":                            "",
		"http://":                     "",
		"http://u:p@h:1":              "",
		"http://h:1/?x=1":             "",
		"[::1]:8098":                  "http://[::1]:8098",
		"http://cairn.example.com:80": "http://cairn.example.com:80",
	} {
		got, err := nodeURL(in)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("nodeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestConfig(t *testing.T) {
	if err := DefaultConfig().Validate(); err == nil {
		t.Error("a config without nodes is valid")
	}
	cfg := DefaultConfig()
	cfg.Nodes = []string{"h:1"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Config){
		"bad node":         func(c *Config) { c.Nodes = []string{"h:1", "gopher://h"} },
		"zero timeout":     func(c *Config) { c.Timeout = 0 },
		"max < backoff":    func(c *Config) { c.MaxBackoff = c.RetryBackoff / 2 },
		"zero down for":    func(c *Config) { c.DownFor = 0 },
		"negative backoff": func(c *Config) { c.RetryBackoff = -1 },
	} {
		c := cfg
		mutate(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "client: config: ") {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
	// New gives zero fields their defaults.
	c, err := New(Config{Nodes: []string{"h:1"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := DefaultConfig(); c.cfg.Timeout != d.Timeout || c.cfg.Retries != d.Retries || c.cfg.DownFor != d.DownFor ||
		c.cfg.RetryBackoff != d.RetryBackoff || c.cfg.MaxBackoff != d.MaxBackoff {
		t.Fatalf("defaults not applied: %+v", c.cfg)
	}
	if tr, ok := c.hc.Transport.(*http.Transport); !ok || tr.MaxIdleConnsPerHost != 64 {
		t.Fatalf("transport %T", c.hc.Transport)
	}
}

// TestPick: round-robin over the nodes that are up, each node once per
// call while another is left, then the down ones, soonest back first.
func TestPick(t *testing.T) {
	now := time.Unix(1000, 0)
	p := newPool(3, time.Minute)
	var seq []int
	for range 6 {
		seq = append(seq, p.pick(now, make([]bool, 3)))
	}
	if !slices.Equal(seq, []int{0, 1, 2, 0, 1, 2}) {
		t.Fatalf("round-robin %v", seq)
	}
	p.down(1, now)
	seq = nil
	for range 4 {
		seq = append(seq, p.pick(now, make([]bool, 3)))
	}
	if slices.Contains(seq, 1) {
		t.Fatalf("picked the down node: %v", seq)
	}
	// Within a call: untried up nodes, then the down one.
	tried := make([]bool, 3)
	var call []int
	for range 4 {
		i := p.pick(now, tried)
		tried[i] = true
		call = append(call, i)
	}
	if !slices.Equal(slices.Sorted(slices.Values(call[:2])), []int{0, 2}) || call[2] != 1 || call[3] == 1 {
		t.Fatalf("one call's picks %v: want 0 and 2, then 1, then an up one", call)
	}
	// Everything down: the one back first; then, when all were tried,
	// any.
	p.down(0, now.Add(time.Second))
	p.down(2, now.Add(2*time.Second))
	if i := p.pick(now, make([]bool, 3)); i != 1 {
		t.Fatalf("all down: picked %d, want 1 (back first)", i)
	}
	if i := p.pick(now, []bool{true, true, true}); i < 0 || i > 2 {
		t.Fatalf("pick %d", i)
	}
	// Back up after DownFor, or after it answers.
	if !p.isDown(1, now) || p.isDown(1, now.Add(time.Minute)) {
		t.Fatal("DownFor not honoured")
	}
	p.up(0)
	if p.isDown(0, now) {
		t.Fatal("up did not clear the mark")
	}
	// DownFor < 0: nodes are never skipped.
	never := newPool(1, -1)
	never.down(0, now)
	if never.isDown(0, now) {
		t.Fatal("a pool with DownFor < 0 marked a node down")
	}
}

func TestLastModifiedWins(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name string
		sibs []Sibling
		want string
	}{
		{"later wins", []Sibling{{VTag: "a", LastModified: t0.Add(time.Second)}, {VTag: "b", LastModified: t0}}, "a"},
		{"later wins, any order", []Sibling{{VTag: "b", LastModified: t0}, {VTag: "a", LastModified: t0.Add(time.Second)}}, "a"},
		{"tie: greater vtag", []Sibling{{VTag: "x", LastModified: t0}, {VTag: "y", LastModified: t0}}, "y"},
		{"tombstone loses", []Sibling{{VTag: "dead", LastModified: t0.Add(time.Hour), Deleted: true}, {VTag: "live", LastModified: t0}}, "live"},
		{"only tombstones", []Sibling{{VTag: "d1", LastModified: t0, Deleted: true}, {VTag: "d2", LastModified: t0.Add(1), Deleted: true}}, "d2"},
	} {
		got, err := LastModifiedWins.Resolve(Location{}, tc.sibs)
		if err != nil || got.VTag != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, got.VTag, err, tc.want)
		}
	}
}

func TestLinks(t *testing.T) {
	h := `</types/default/buckets/b>; rel="up", </buckets/b+1/keys/a%2Fb>; riaktag="friend+of", ` +
		`</riak/old/k>; riaktag=plain, </buckets/x/keys/y>; RIAKTAG="q\"uote"; riaktag="second", </nope>; riaktag="t"`
	got := parseLinks([]string{h, `</types/t/buckets/tb/keys/tk>; riaktag="typed"`})
	want := []Link{
		{Bucket: "b 1", Key: "a/b", Tag: "friend of"},
		{Bucket: "old", Key: "k", Tag: "plain"},
		{Bucket: "x", Key: "y", Tag: `q"uote`},
		{Bucket: "tb", Key: "tk", Tag: "typed"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("parseLinks:\n got %+v\nwant %+v", got, want)
	}
	// What contentHeaders sends, parseLinks reads back.
	hdr := http.Header{}
	links := []Link{{Bucket: "a b", Key: "c/d,e>", Tag: `t"a,g`}, {Bucket: "x", Key: "y"}}
	if err := contentHeaders(hdr, Sibling{Links: links}); err != nil {
		t.Fatal(err)
	}
	if got := parseLinks(hdr.Values("Link")); !slices.Equal(got, links) {
		t.Fatalf("round trip: %+v, want %+v", got, links)
	}
	if err := contentHeaders(http.Header{}, Sibling{Links: []Link{{Key: "k"}}}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("link without bucket: %v", err)
	}
}

func TestContentType(t *testing.T) {
	for _, tc := range []struct {
		ct, charset, want string
	}{
		{"", "", "application/octet-stream"},
		{"text/plain", "utf-8", "text/plain; charset=utf-8"},
		{"text/plain; charset=latin1", "utf-8", "text/plain; charset=utf-8"},
		{"application/json; profile=x", "", "application/json; profile=x"},
	} {
		got, err := formatContentType(tc.ct, tc.charset)
		if err != nil || got != tc.want {
			t.Errorf("formatContentType(%q, %q) = %q, %v; want %q", tc.ct, tc.charset, got, err, tc.want)
		}
	}
	if ct, cs := parseContentType("text/plain; charset=utf-8; format=flowed"); ct != "text/plain; format=flowed" || cs != "utf-8" {
		t.Errorf("parseContentType: %q %q", ct, cs)
	}
	if _, err := formatContentType("not a type", ""); !errors.Is(err, ErrBadRequest) {
		t.Errorf("malformed type: %v", err)
	}
}

func TestObjectHelpers(t *testing.T) {
	var nilObj *Object
	if nilObj.Value() != nil || nilObj.HasSiblings() {
		t.Fatal("nil object")
	}
	o := &Object{Siblings: []Sibling{{Value: []byte("a")}, {Value: []byte("b")}}, Context: "c"}
	if string(o.Value()) != "a" || !o.HasSiblings() {
		t.Fatal("siblings")
	}
	o.SetValue([]byte("z"), "text/plain")
	if o.HasSiblings() || string(o.Value()) != "z" || o.Context != "c" || o.Siblings[0].ContentType != "text/plain" {
		t.Fatalf("SetValue: %+v", o)
	}
	if got := (Location{Bucket: "a b", Key: "c/d+e"}).path(); got != "/types/default/buckets/a+b/keys/c%2Fd%2Be" {
		t.Fatalf("path %q", got)
	}
	if Q(2) != "2" {
		t.Fatal("Q")
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Status: 400, Message: "r: node: quorum exceeds n_val", Node: "http://n1:8098", err: ErrBadRequest, op: "GET /types/default/buckets/b/keys/k"}
	want := "client: GET /types/default/buckets/b/keys/k on http://n1:8098: 400 Bad Request: r: node: quorum exceeds n_val"
	if e.Error() != want || !errors.Is(e, ErrBadRequest) || errors.Unwrap(e) != ErrBadRequest {
		t.Fatalf("%q", e.Error())
	}
	if !errors.Is(ErrUnknownBucketType, ErrBadRequest) || errors.Is(ErrBadRequest, ErrUnknownBucketType) {
		t.Fatal("ErrUnknownBucketType is an ErrBadRequest")
	}
}
