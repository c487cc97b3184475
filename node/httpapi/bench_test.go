package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkServeGet is one GET of a 100-byte value through the handler on
// a single node, without the network: the HTTP layer's own cost (routing,
// query and header parsing, response headers) on top of the node's read.
func BenchmarkServeGet(b *testing.B) {
	env := newTestEnv(b, false)
	value := bytes.Repeat([]byte("v"), 100)
	req := httptest.NewRequest(http.MethodPut, "/buckets/b/keys/k", bytes.NewReader(value))
	req.Header.Set("Content-Type", "application/octet-stream")
	rec := httptest.NewRecorder()
	env.api.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		b.Fatalf("put: %d %s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		env.api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/buckets/b/keys/k", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("get: %d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkServePut is one blind PUT of a 100-byte value through the
// handler on a single node, dw=0 so that the engine's fsync does not hide
// the rest (the test engine syncs every write all the same, so ns/op is
// mostly its fsync; allocs/op is the figure to watch). Each goes to a new key: blind writes to one key would pile up
// siblings until the limit refuses them.
func BenchmarkServePut(b *testing.B) {
	env := newTestEnv(b, false)
	value := bytes.Repeat([]byte("v"), 100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest(http.MethodPut, "/buckets/b/keys/k"+strconv.Itoa(i)+"?dw=0", bytes.NewReader(value))
		req.Header.Set("Content-Type", "application/octet-stream")
		rec := httptest.NewRecorder()
		env.api.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			b.Fatalf("put: %d %s", rec.Code, rec.Body)
		}
	}
}
