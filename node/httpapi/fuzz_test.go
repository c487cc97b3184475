package httpapi

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzRouter sends arbitrary paths, queries and headers to the API over a
// fault-free KV: it must never panic and never answer 5xx.
func FuzzRouter(f *testing.F) {
	for _, s := range [][6]string{
		{"GET", "/buckets/b/keys/k", "r=one", "", "", ""},
		{"PUT", "/types/t/buckets/b/keys/a%2Fb", "returnbody=true&w=all", "text/plain", `</buckets/b/keys/x>; riaktag="t"`, "*"},
		{"POST", "/buckets/b/keys", "", "application/json", "", ""},
		{"DELETE", "/riak/b/k", "rw=quorum", "", "", `"x"`},
		{"GET", "/buckets", "buckets=stream", "", "", ""},
		{"GET", "/buckets/b/keys", "keys=stream", "", "", ""},
		{"PUT", "/buckets/b/props", "", "application/json", "", ""},
		{"GET", "/types/typed/buckets/b/props", "", "", "", ""},
		{"PUT", "/types/typed/props", "", "application/json", "", ""},
		{"GET", "/buckets/b/keys/k", "vtag=abc&timeout=5", "", "", ""},
		{"PATCH", "/../buckets/%2e%2e/keys/+", "r=%zz", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5])
	}
	env := newTestEnv(f, false)
	methods := []string{"GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"}
	f.Fuzz(func(t *testing.T, method, path, rawQuery, ctype, link, ifMatch string) {
		if !slices.Contains(methods, method) {
			method = methods[len(method)%len(methods)]
		}
		target := "/" + strings.TrimLeft(path, "/")
		if rawQuery != "" {
			target += "?" + rawQuery
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return // net/http would have refused the request line
		}
		body := ""
		switch method {
		case "PUT", "POST":
			body = `{"props":{"n_val":3}}`
		}
		req := httptest.NewRequest("GET", "/", strings.NewReader(body))
		req.Method, req.URL, req.RequestURI = method, u, target
		for name, v := range map[string]string{"Content-Type": ctype, "Link": link, "If-Match": ifMatch, "If-None-Match": ifMatch} {
			if v != "" && !strings.ContainsAny(v, "\r\n") {
				req.Header.Set(name, v)
			}
		}
		rec := httptest.NewRecorder()
		env.api.ServeHTTP(rec, req)
		// A ?timeout= short enough may expire inside the KV: that 503 is right.
		if rec.Code >= 500 && !(rec.Code == 503 && strings.Contains(rawQuery, "timeout")) {
			t.Fatalf("%s %s: %d %q", method, target, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
			t.Fatalf("%s %s: error %d answered as %q", method, target, rec.Code, rec.Header().Get("Content-Type"))
		}
	})
}
