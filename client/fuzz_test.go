package client

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/httpapi"
	"github.com/cairnkv/cairn/node/object"
)

// siblingsKV answers every Get with obj: the object whose siblings the
// API encodes.
type siblingsKV struct {
	node.KV
	obj *object.Object
}

func (s *siblingsKV) Get(context.Context, node.Location, node.GetOptions) (*object.Object, error) {
	return s.obj, nil
}

// FuzzSiblingsRoundTrip encodes siblings as the HTTP API does (a 300 with
// a multipart/mixed body, one part per sibling) and decodes them as the
// client does. Every sibling must come back, in order, with its value
// byte for byte, its vtag and last-modified time, and with its content
// type, encoding and metadata whenever they are what HTTP can carry.
func FuzzSiblingsRoundTrip(f *testing.F) {
	f.Add([]byte("apples"), []byte("pears\r\n"), []byte(""), "text/plain", "utf-8", "", "colour", "red")
	f.Add([]byte("--boundary\r\n\r\n--"), []byte("\r\n--\r\n"), []byte{0, 0xff}, "application/json", "", "gzip", "Owner", " spaced ")
	f.Add([]byte{}, []byte{}, []byte{}, "", "", "", "", "")
	f.Add([]byte("a"), []byte("b"), []byte("c"), "multipart/mixed; boundary=x", "\"q\"", "x\r\ny", "bad name", "v\x00")
	f.Fuzz(func(t *testing.T, v1, v2, v3 []byte, ct, charset, ce, metaName, metaValue string) {
		lm := time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)
		obj := object.New()
		for i, v := range [][]byte{v1, v2, v3} {
			c := object.Content{Value: v, ContentType: ct, Charset: charset, ContentEncoding: ce, LastModified: lm.Add(time.Duration(i) * time.Second)}
			if metaName != "" {
				c.Meta = map[string]string{metaName: metaValue + fmt.Sprint(i)}
			}
			obj = obj.Update(object.Context{}, c, object.Actor(fmt.Sprintf("n%d/0", i)))
		}
		want := obj.Values()
		if len(want) != 3 {
			t.Fatalf("setup: %d siblings", len(want))
		}
		api, err := httpapi.New(httpapi.DefaultConfig(), &siblingsKV{obj: obj}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/types/default/buckets/b/keys/k", nil)
		req.Header.Set("Accept", acceptSiblings)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		res := rec.Result()
		if res.StatusCode != http.StatusMultipleChoices {
			t.Fatalf("status %d: %s", res.StatusCode, rec.Body)
		}
		loc := Location{Type: "default", Bucket: "b", Key: "k"}
		got, err := readObject(&request{method: http.MethodGet}, res, "fuzz", loc, nil)
		if err != nil {
			t.Fatalf("decoding the API's siblings: %v", err)
		}
		if len(got.Siblings) != len(want) || got.Context == "" {
			t.Fatalf("%d siblings, context %q; want %d and a context", len(got.Siblings), got.Context, len(want))
		}
		for i, w := range want {
			g := got.Siblings[i]
			if !bytes.Equal(g.Value, w.Value) {
				t.Fatalf("sibling %d: value %q, want %q", i, g.Value, w.Value)
			}
			if g.VTag != w.VTag || !g.LastModified.Equal(w.LastModified) {
				t.Fatalf("sibling %d: vtag %q at %v, want %q at %v", i, g.VTag, g.LastModified, w.VTag, w.LastModified)
			}
			if canonicalMediaType(ct) && charset == "" && g.ContentType != ct {
				t.Fatalf("sibling %d: content type %q, want %q", i, g.ContentType, ct)
			}
			if ct == "" && g.ContentType != "application/octet-stream" {
				t.Fatalf("sibling %d: content type %q for none stored", i, g.ContentType)
			}
			if ce != "" && isHeaderSafe(ce) && g.ContentEncoding != ce {
				t.Fatalf("sibling %d: content encoding %q, want %q", i, g.ContentEncoding, ce)
			}
			for k, v := range w.Meta {
				if isToken(k) && isHeaderSafe(v) && g.Meta[strings.ToLower(k)] != v {
					t.Fatalf("sibling %d: meta %q = %q, want %q (all: %v)", i, k, g.Meta[strings.ToLower(k)], v, g.Meta)
				}
			}
		}
	})
}

// canonicalMediaType reports whether ct is a media type that formats to
// itself: what a client that stored it expects back unchanged.
func canonicalMediaType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	return err == nil && strings.Contains(mt, "/") && mime.FormatMediaType(mt, params) == ct
}

// isHeaderSafe reports whether v survives a header unchanged: no control
// characters, no white space at either end (HTTP strips it).
func isHeaderSafe(v string) bool {
	return v != "" && v == strings.TrimSpace(v) && !strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
