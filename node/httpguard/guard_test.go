package httpguard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const (
	dataToken  = "data-token-0123456789"
	adminToken = "admin-token-0123456789"
)

func testTokens(t *testing.T) *Tokens {
	t.Helper()
	tok, err := ParseTokens(strings.NewReader("# roles\n\ndata " + dataToken + "\n  admin   " + adminToken + "  \n"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestParseTokens(t *testing.T) {
	tok := testTokens(t)
	for token, want := range map[string]Role{
		dataToken: RoleData, adminToken: RoleAdmin, "": RoleNone,
		dataToken + "x": RoleNone, strings.ToUpper(adminToken): RoleNone,
	} {
		if got := tok.Role(token); got != want {
			t.Errorf("Role(%q) = %v, want %v", token, got, want)
		}
	}
	if (*Tokens)(nil).Role(adminToken) != RoleNone {
		t.Error("a nil Tokens knows a token")
	}
	for name, file := range map[string]string{
		"empty":        "# nothing\n\n",
		"unknown role": "root " + adminToken + "\n",
		"no token":     "admin\n",
		"three fields": "admin " + adminToken + " extra\n",
		"short token":  "data short\n",
		"twice":        "data " + dataToken + "\nadmin " + dataToken + "\n",
	} {
		if _, err := ParseTokens(strings.NewReader(file)); err == nil || !strings.HasPrefix(err.Error(), "httpguard: ") {
			t.Errorf("%s: ParseTokens = %v, want an httpguard error", name, err)
		}
	}
}

// guarded serves a handler that answers 200 "ok" behind the guard.
func guarded(t *testing.T, cfg Config, tokens *Tokens, reg prometheus.Registerer, next http.Handler) *httptest.Server {
	t.Helper()
	if next == nil {
		next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil {
				if _, err := io.Copy(io.Discard, r.Body); err != nil {
					http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
					return
				}
			}
			_, _ = io.WriteString(w, "ok")
		})
	}
	h, err := New(cfg, tokens, next, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func send(t *testing.T, srv *httptest.Server, method, path, token string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(strings.NewReader(string(b)))
	return res
}

// Every path class against every credential: the status, and on a
// refusal the WWW-Authenticate challenge and a text/plain message.
func TestAuthMatrix(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv := guarded(t, DefaultConfig(), testTokens(t), reg, nil)
	data, admin := "Bearer "+dataToken, "bearer "+adminToken // the scheme is case-insensitive
	for _, tc := range []struct {
		method, path string
		none, data   int // admin always gets 200
	}{
		{"GET", "/ping", 200, 200},
		{"HEAD", "/ping", 200, 200},
		{"POST", "/ping", 401, 200},
		{"GET", "/ping/", 401, 200}, // FuzzGuard: only the exact path is open
		{"GET", "/buckets/../ping", 401, 200},
		{"GET", "/buckets/b/keys/k", 401, 200},
		{"PUT", "/types/t/buckets/b/keys/k", 401, 200},
		{"DELETE", "/riak/b/k", 401, 200},
		{"GET", "/buckets/b/keys?keys=true", 401, 200},
		{"PUT", "/buckets/b/props", 401, 200},
		{"GET", "/types/t/props", 401, 200},
		{"PUT", "/types/t/props", 401, 403},
		{"GET", "/stats", 401, 403},
		{"GET", "/metrics", 401, 403},
		{"GET", "/debug/pprof/", 401, 403},
		{"GET", "/admin/cluster", 401, 403},
		{"POST", "/admin/cluster/commit", 401, 403},
		{"GET", "/admin", 401, 403},
		{"GET", "/%61dmin/ring", 401, 403},          // escaped: still /admin/ring
		{"GET", "/buckets/../admin/ring", 401, 403}, // cleaned as the mux would
		{"GET", "/nowhere", 401, 200},
	} {
		for _, cred := range []struct {
			header string
			want   int
		}{{"", tc.none}, {data, tc.data}, {admin, 200}, {"Bearer wrong-token-0123456789", tc.none}, {"Basic " + adminToken, tc.none}} {
			res := send(t, srv, tc.method, tc.path, cred.header, nil)
			if res.StatusCode != cred.want {
				t.Errorf("%s %s with %q: %d, want %d", tc.method, tc.path, cred.header, res.StatusCode, cred.want)
				continue
			}
			if res.StatusCode == 401 || res.StatusCode == 403 {
				if ch := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer") {
					t.Errorf("%s %s with %q: %d without a Bearer challenge (%q)", tc.method, tc.path, cred.header, res.StatusCode, ch)
				}
				b, _ := io.ReadAll(res.Body)
				if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") || len(b) < 10 {
					t.Errorf("%s %s: %d answered %q %q", tc.method, tc.path, res.StatusCode, res.Header.Get("Content-Type"), b)
				}
			}
		}
	}
	for _, reason := range []string{"missing", "invalid", "forbidden"} {
		if n := gathered(t, reg, "cairn_http_auth_refused_total", reason); n == 0 {
			t.Errorf("no %s refusal counted", reason)
		}
	}
}

// gathered is the value of the metric name in reg (with the given label
// value, when the metric has one), 0 when absent.
func gathered(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// Without tokens nothing is asked for.
func TestNoTokensIsOpen(t *testing.T) {
	srv := guarded(t, DefaultConfig(), nil, nil, nil)
	for _, p := range []string{"/admin/cluster", "/buckets/b/keys/k", "/metrics"} {
		if res := send(t, srv, "GET", p, "", nil); res.StatusCode != 200 {
			t.Errorf("GET %s without tokens configured: %d", p, res.StatusCode)
		}
	}
}

// A declared body above the limit is refused before it is read; an
// undeclared (chunked) one is cut off by MaxBytesReader.
func TestBodyLimit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxBodyBytes = 100
	srv := guarded(t, cfg, nil, nil, nil)
	res := send(t, srv, "PUT", "/buckets/b/keys/k", "", strings.NewReader(strings.Repeat("x", 101)))
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "limit of 100 bytes") {
		t.Fatalf("declared 101-byte body: %d %q", res.StatusCode, b)
	}
	chunked := io.MultiReader(strings.NewReader(strings.Repeat("x", 101))) // no length: sent chunked
	if res := send(t, srv, "PUT", "/buckets/b/keys/k", "", chunked); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked 101-byte body: %d", res.StatusCode)
	}
	if res := send(t, srv, "PUT", "/buckets/b/keys/k", "", strings.NewReader(strings.Repeat("x", 100))); res.StatusCode != 200 {
		t.Fatalf("100-byte body: %d", res.StatusCode)
	}
}

// With every slot taken by requests held in the handler, the next one is
// answered 503 with Retry-After at once (not queued), /ping still
// answers, and once a slot frees a request goes through again.
func TestShedding(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxConcurrent = 3
	reg := prometheus.NewRegistry()
	entered, release := make(chan struct{}), make(chan struct{})
	srv := guarded(t, cfg, nil, reg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			entered <- struct{}{}
			<-release
		}
		_, _ = io.WriteString(w, "ok")
	}))
	var wg sync.WaitGroup
	for range cfg.MaxConcurrent {
		wg.Go(func() {
			if res := send(t, srv, "GET", "/hold", "", nil); res.StatusCode != 200 {
				t.Errorf("held request: %d", res.StatusCode)
			}
		})
		<-entered
	}
	res := send(t, srv, "GET", "/buckets/b/keys/k", "", nil)
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "1" || !strings.Contains(string(b), "overloaded") {
		t.Fatalf("request over the limit: %d Retry-After %q %q", res.StatusCode, res.Header.Get("Retry-After"), b)
	}
	if res := send(t, srv, "GET", "/ping", "", nil); res.StatusCode != 200 {
		t.Fatalf("/ping while saturated: %d", res.StatusCode)
	}
	if got := gathered(t, reg, "cairn_http_shed_total", ""); got != 1 {
		t.Fatalf("shed_total %v, want 1", got)
	}
	if got := gathered(t, reg, "cairn_http_inflight_requests", ""); got != 3 {
		t.Fatalf("inflight %v, want 3", got)
	}
	close(release)
	wg.Wait()
	if res := send(t, srv, "GET", "/buckets/b/keys/k", "", nil); res.StatusCode != 200 {
		t.Fatalf("after the held requests finished: %d", res.StatusCode)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{DefaultConfig(), DefaultLocalConfig()} {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	for name, mut := range map[string]func(*Config){
		"negative concurrency": func(c *Config) { c.MaxConcurrent = -1 },
		"zero body":            func(c *Config) { c.MaxBodyBytes = 0 },
		"tiny headers":         func(c *Config) { c.MaxHeaderBytes = 100 },
		"no header timeout":    func(c *Config) { c.ReadHeaderTimeout = 0 },
		"read below header":    func(c *Config) { c.ReadTimeout = time.Second; c.ReadHeaderTimeout = time.Minute },
		"no idle timeout":      func(c *Config) { c.IdleTimeout = 0 },
	} {
		c := DefaultConfig()
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
