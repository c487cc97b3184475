package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
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
// the rest.
func BenchmarkServePut(b *testing.B) {
	env := newTestEnv(b, false)
	value := bytes.Repeat([]byte("v"), 100)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPut, "/buckets/b/keys/k?dw=0", bytes.NewReader(value))
		req.Header.Set("Content-Type", "application/octet-stream")
		rec := httptest.NewRecorder()
		env.api.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			b.Fatalf("put: %d %s", rec.Code, rec.Body)
		}
	}
}
