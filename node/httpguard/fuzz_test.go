package httpguard

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzGuard sends arbitrary methods, paths and Authorization headers
// through the guard to a mux laid out as cmd/cairn's: /admin/ to the admin
// API, everything else to the data API. Whatever the path's spelling
// (escapes, dot segments, double slashes), no request without a token
// reaches either API but GET or HEAD /ping, and none with a data token
// reaches the admin API.
func FuzzGuard(f *testing.F) {
	for _, s := range [][3]string{
		{"GET", "/admin/cluster", "Bearer " + dataToken},
		{"GET", "/%61dmin/ring", "Bearer " + dataToken},
		{"GET", "//admin//ring", ""},
		{"POST", "/buckets/../admin/cluster/commit", "bearer " + dataToken},
		{"GET", "/ping", ""},
		{"GET", "/ping/../admin/ring", ""},
		{"HEAD", "/./ping", ""},
		{"PUT", "/types/t/props", "Bearer " + dataToken},
		{"GET", "/debug/pprof/", "Bearer  " + adminToken},
		{"GET", "/admin", "Basic " + adminToken},
	} {
		f.Add(s[0], s[1], s[2])
	}
	tokens, err := ParseTokens(strings.NewReader("data " + dataToken + "\nadmin " + adminToken + "\n"))
	if err != nil {
		f.Fatal(err)
	}
	var reached string
	mux := http.NewServeMux()
	mux.HandleFunc("/admin/", func(http.ResponseWriter, *http.Request) { reached = "admin" })
	mux.HandleFunc("/", func(_ http.ResponseWriter, r *http.Request) { reached = "data " + r.URL.Path })
	h, err := New(DefaultConfig(), tokens, mux, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, target, auth string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\x00") {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || strings.ContainsAny(method, " \t\r\n\x00") || method == "" {
			return
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.Method, req.URL, req.RequestURI = method, u, target
		if auth != "" && !strings.ContainsAny(auth, "\r\n\x00") {
			req.Header.Set("Authorization", auth)
		}
		reached = ""
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		role := RoleNone
		if tok, ok := bearer(req); ok {
			role = tokens.Role(tok)
		}
		switch {
		case reached == "admin" && role != RoleAdmin:
			t.Fatalf("%s %q with %q (role %v) reached the admin API", method, target, auth, role)
		case strings.HasPrefix(reached, "data ") && role == RoleNone &&
			!(reached == "data /ping" && (method == "GET" || method == "HEAD")):
			t.Fatalf("%s %q without a valid token reached the data API as %q", method, target, reached)
		case reached == "" && rec.Code < 300 && rec.Code != 0:
			t.Fatalf("%s %q: %d without reaching a handler", method, target, rec.Code)
		}
	})
}
