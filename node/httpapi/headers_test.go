package httpapi

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/cairnkv/cairn/node/object"
)

func TestParseLinks(t *testing.T) {
	tests := []struct {
		in      string
		want    []object.Link
		wantErr bool
	}{
		{in: `</buckets/b/keys/k>; riaktag="t"`, want: []object.Link{{Bucket: "b", Key: "k", Tag: "t"}}},
		{in: `</riak/b/k>; riaktag="t"`, want: []object.Link{{Bucket: "b", Key: "k", Tag: "t"}}},
		{in: `</riak/b/k>;riaktag=t`, want: []object.Link{{Bucket: "b", Key: "k", Tag: "t"}}},
		{in: `</buckets/b>; rel="up"`},
		{in: `</buckets/b>; rel="up", </buckets/x%2Fy/keys/a+b>; riaktag="my+tag"`,
			want: []object.Link{{Bucket: "x/y", Key: "a b", Tag: "my tag"}}},
		{in: `</buckets/b/keys/k>; RiakTag="a,b;c"; other=1, , </buckets/b/keys/k2>; riaktag="q\"x"`,
			want: []object.Link{{Bucket: "b", Key: "k", Tag: "a,b;c"}, {Bucket: "b", Key: "k2", Tag: `q"x`}}},
		{in: `</buckets/b/keys/k>; riaktag=""`, want: []object.Link{{Bucket: "b", Key: "k"}}},
		{in: `</buckets/b/keys/k>`},
		{in: ``},
		{in: `</buckets/b/keys/k`, wantErr: true},
		{in: `/buckets/b/keys/k; riaktag="t"`, wantErr: true},
		{in: `</buckets/b/keys/k>; riaktag="t`, wantErr: true},
		{in: `</buckets/b/keys/k> riaktag="t"`, wantErr: true},
		{in: `</buckets/b/keys/k>; ="t"`, wantErr: true},
		{in: `</buckets/b/keys/>; riaktag="t"`, wantErr: true},
		{in: `</buckets/b/keys/k/more>; riaktag="t"`, wantErr: true},
		{in: `</types/t/buckets/b/keys/k>; riaktag="t"`, wantErr: true},
		{in: `<http://host/buckets/b/keys/k>; riaktag="t"`, wantErr: true},
		{in: `</buckets/b/keys/%zz>; riaktag="t"`, wantErr: true},
	}
	for _, tc := range tests {
		got, err := parseLinks([]string{tc.in})
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %+v, want %+v", tc.in, got, tc.want)
		}
		if err != nil && statusFor(err) != http.StatusBadRequest {
			t.Errorf("%q: status %d", tc.in, statusFor(err))
		}
	}
}

// FuzzParseLinks: parsing never panics, and whatever parses survives
// formatting and parsing again unchanged.
func FuzzParseLinks(f *testing.F) {
	for _, s := range []string{
		`</buckets/b/keys/k>; riaktag="t"`,
		`</riak/b/k>; riaktag=t, </buckets/b>; rel="up"`,
		`</buckets/x%2Fy/keys/a+b>; riaktag="my+tag"; x; y=1`,
		`<>; riaktag="\"`,
		`,,<`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		links, err := parseLinks([]string{s})
		if err != nil {
			if statusFor(err) != http.StatusBadRequest {
				t.Fatalf("status %d for %v", statusFor(err), err)
			}
			return
		}
		for _, legacy := range []bool{false, true} {
			rt := route{kind: routeObject, typ: "default", bucket: "b", legacy: legacy}
			again, err := parseLinks([]string{formatLinks(links, rt)})
			if err != nil {
				t.Fatalf("formatted %+v does not parse: %v", links, err)
			}
			if len(links) == 0 && len(again) == 0 {
				continue
			}
			if !reflect.DeepEqual(again, links) {
				t.Fatalf("round trip: %+v became %+v", links, again)
			}
		}
	})
}

// FuzzHeaders: the other request-header parsers never panic and answer
// only 400 for what they refuse.
func FuzzHeaders(f *testing.F) {
	f.Add("text/plain; charset=utf-8", "X-Riak-Meta-Color", "red", `"a", W/"b", *`, "Sat, 01 Jan 2000 00:00:00 GMT", "multipart/mixed;q=0.5")
	f.Add("", "X-Riak-Meta-", "", ``, "", "")
	f.Fuzz(func(t *testing.T, ct, metaName, metaValue, etags, date, accept string) {
		h := http.Header{}
		h.Set("Content-Type", ct)
		h[metaName] = []string{metaValue}
		h.Set("If-Match", etags)
		h.Set("If-None-Match", etags)
		h.Set("If-Modified-Since", date)
		h.Set("Accept", accept)
		if c, cs, err := parseContentType(h); err != nil {
			if statusFor(err) != http.StatusBadRequest {
				t.Fatalf("Content-Type %q: %v", ct, err)
			}
		} else {
			_ = formatContentType(object.Content{ContentType: c, Charset: cs})
		}
		if meta, err := parseMeta(h); err != nil && statusFor(err) != http.StatusBadRequest {
			t.Fatalf("meta: %v", err)
		} else {
			_ = metaHeaders(meta)
		}
		cond := parseConditions(h)
		for _, m := range []string{"GET", "PUT"} {
			for _, exists := range []bool{false, true} {
				switch st := cond.check(m, exists, []string{"a", "b"}, time.Unix(946684800, 0)); st {
				case 0, http.StatusNotModified, http.StatusPreconditionFailed:
				default:
					t.Fatalf("check answered %d", st)
				}
			}
		}
		_ = prefersMultipart([]string{accept})
	})
}

func TestConditionsCheck(t *testing.T) {
	lm := time.Date(2024, 3, 1, 12, 0, 0, 500, time.UTC)
	before := lm.Add(-time.Hour).Format(http.TimeFormat)
	same := lm.Format(http.TimeFormat)
	tests := []struct {
		name   string
		hdr    []string
		method string
		exists bool
		want   int
	}{
		{"no conditions", nil, "GET", true, 0},
		{"if-match hit", []string{"If-Match", `"a"`}, "PUT", true, 0},
		{"if-match list hit", []string{"If-Match", `"x", "b"`}, "PUT", true, 0},
		{"if-match miss", []string{"If-Match", `"x"`}, "PUT", true, 412},
		{"if-match weak never matches", []string{"If-Match", `W/"a"`}, "PUT", true, 412},
		{"if-match star exists", []string{"If-Match", "*"}, "PUT", true, 0},
		{"if-match star missing", []string{"If-Match", "*"}, "PUT", false, 412},
		{"if-match quoted star is a tag", []string{"If-Match", `"*"`}, "PUT", true, 412},
		{"if-none-match star missing", []string{"If-None-Match", "*"}, "PUT", false, 0},
		{"if-none-match star exists put", []string{"If-None-Match", "*"}, "PUT", true, 412},
		{"if-none-match star exists get", []string{"If-None-Match", "*"}, "GET", true, 304},
		{"if-none-match weak hit get", []string{"If-None-Match", `W/"a"`}, "GET", true, 304},
		{"if-none-match miss", []string{"If-None-Match", `"x"`}, "GET", true, 0},
		{"if-modified-since same second", []string{"If-Modified-Since", same}, "GET", true, 304},
		{"if-modified-since before", []string{"If-Modified-Since", before}, "GET", true, 0},
		{"if-modified-since ignored on put", []string{"If-Modified-Since", same}, "PUT", true, 0},
		{"if-modified-since ignored with if-none-match", []string{"If-Modified-Since", same, "If-None-Match", `"x"`}, "GET", true, 0},
		{"if-modified-since bad date ignored", []string{"If-Modified-Since", "yesterday"}, "GET", true, 0},
		{"if-unmodified-since same", []string{"If-Unmodified-Since", same}, "DELETE", true, 0},
		{"if-unmodified-since before", []string{"If-Unmodified-Since", before}, "DELETE", true, 412},
		{"if-unmodified-since missing key", []string{"If-Unmodified-Since", before}, "PUT", false, 0},
		{"if-unmodified-since ignored with if-match", []string{"If-Unmodified-Since", before, "If-Match", `"a"`}, "PUT", true, 0},
	}
	for _, tc := range tests {
		h := http.Header{}
		for i := 0; i+1 < len(tc.hdr); i += 2 {
			h.Add(tc.hdr[i], tc.hdr[i+1])
		}
		if got := parseConditions(h).check(tc.method, tc.exists, []string{"a", "b"}, lm); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestContentType(t *testing.T) {
	tests := []struct{ in, ct, charset, out string }{
		{"text/plain", "text/plain", "", "text/plain"},
		{"Text/Plain; Charset=UTF-8", "text/plain", "UTF-8", "text/plain; charset=UTF-8"},
		{"application/json; profile=x; charset=utf-8", "application/json; profile=x", "utf-8", "application/json; profile=x; charset=utf-8"},
	}
	for _, tc := range tests {
		h := http.Header{"Content-Type": {tc.in}}
		ct, cs, err := parseContentType(h)
		if err != nil || ct != tc.ct || cs != tc.charset {
			t.Errorf("%q: %q %q %v", tc.in, ct, cs, err)
		}
		if out := formatContentType(object.Content{ContentType: ct, Charset: cs}); out != tc.out {
			t.Errorf("%q: formatted %q, want %q", tc.in, out, tc.out)
		}
	}
	if out := formatContentType(object.Content{}); out != "application/octet-stream" {
		t.Errorf("empty content type formatted %q", out)
	}
}

func TestMetaHeaders(t *testing.T) {
	h := http.Header{}
	h.Add("X-Riak-Meta-Color", "red")
	h.Add("x-riak-meta-multi", "a")
	h.Add("X-Riak-Meta-Multi", "b")
	h.Add("X-Other", "no")
	meta, err := parseMeta(h)
	if err != nil || !reflect.DeepEqual(meta, map[string]string{"color": "red", "multi": "a, b"}) {
		t.Fatalf("%v %v", meta, err)
	}
	got := metaHeaders(map[string]string{"b": "2", "a": "x\r\ny", "bad name": "skip"})
	want := [][2]string{{"X-Riak-Meta-a", "x  y"}, {"X-Riak-Meta-b", "2"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("metaHeaders %v, want %v", got, want)
	}
	if _, err := parseMeta(http.Header{"X-Riak-Meta-": {"v"}}); err == nil {
		t.Error("empty meta name accepted")
	}
}

func TestNewKey(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k := newKey()
		if len(k) != 20 || !isToken(k) || escapeSegment(k) != k {
			t.Fatalf("key %q", k)
		}
		if seen[k] {
			t.Fatalf("duplicate key %q", k)
		}
		seen[k] = true
	}
}

// Found by client.FuzzSiblingsRoundTrip: a stored metadata value holding
// DEL went out in a multipart part's header, and Go's textproto refused
// the whole answer. Every control character but tab becomes a space.
func TestSanitizeHeaderValue(t *testing.T) {
	for in, want := range map[string]string{
		"plain":        "plain",
		"tab\tkept":    "tab\tkept",
		"a\r\nb":       "a  b",
		"nul\x00":      "nul ",
		"del\x7f":      "del ",
		"bell\x07":     "bell ",
		"ünïcode ✓":    "ünïcode ✓",
		"esc\x1b[31m!": "esc [31m!",
	} {
		if got := sanitizeHeaderValue(in); got != want {
			t.Errorf("sanitizeHeaderValue(%q) = %q, want %q", in, got, want)
		}
	}
}
