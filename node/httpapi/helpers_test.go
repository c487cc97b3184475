package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   string
	te     []string // transfer encodings
}

// do sends one request to srv. path is sent as is (already escaped); hdr
// holds header name/value pairs.
func do(t testing.TB, srv *httptest.Server, method, path, body string, hdr ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatalf("NewRequest %s %s: %v", method, path, err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b), te: res.TransferEncoding}
}

// must is do, failing the test unless the status is want.
func must(t testing.TB, want int, srv *httptest.Server, method, path, body string, hdr ...string) response {
	t.Helper()
	r := do(t, srv, method, path, body, hdr...)
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d; body %q", method, path, r.status, want, r.body)
	}
	return r
}

// put stores a text/plain value blind (or with vclock) and expects 204.
func put(t testing.TB, srv *httptest.Server, path, value, vclock string) {
	t.Helper()
	hdr := []string{"Content-Type", "text/plain"}
	if vclock != "" {
		hdr = append(hdr, hdrVclock, vclock)
	}
	must(t, http.StatusNoContent, srv, http.MethodPut, path, value, hdr...)
}

// siblingVtags reads the vtags from a text/plain 300 body.
func siblingVtags(t testing.TB, body string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) < 1 || lines[0] != "Siblings:" {
		t.Fatalf("300 body %q does not start with Siblings:", body)
	}
	return lines[1:]
}

// ioPipe is io.Pipe, named so that tests read as what they do.
func ioPipe() (*io.PipeReader, *io.PipeWriter) { return io.Pipe() }

// mustJSON is s as a JSON string.
func mustJSON(t testing.TB, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// httptestRecorder serves one bodiless request straight to h.
func httptestRecorder(h http.Handler, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}
