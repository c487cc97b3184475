package adminapi

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/node"
)

// aaeFixture is fixture with n1's anti-entropy: partitions listed out of
// order, one never built, one exchange failing.
func aaeFixture() *Fake {
	f := fixture()
	f.AntiEntropy = antientropy.Status{Node: "n1", Enabled: true, Window: "always", Now: t0, Running: 1,
		Exchanges: 42, KeysCompared: 12345, KeysRepaired: 17, Bytes: 3 << 20,
		Partitions: []antientropy.PartitionStatus{
			{Partition: 3, TreeBuilt: t0.Add(-3 * time.Minute), Keys: 1200,
				Exchanges: []antientropy.PeerStatus{
					{Peer: "n3", PeerPartition: 5, Primary: 3, N: 3, Last: t0.Add(-12 * time.Second)},
					{Peer: "n2", PeerPartition: 4, Primary: 3, N: 3, Last: t0.Add(-40 * time.Second), LastRepaired: 2,
						LastError: "rpc: connection refused"},
				},
				Repaired: antientropy.RepairStats{Last: 2, Mean: 0.5, Max: 3, Total: 5, Exchanges: 10}},
			{Partition: 0},
		}}
	return f
}

func serveAAE(f *Fake) http.Handler {
	return NewWithServices(f, Services{Transfers: f, AAE: f}, nil)
}

func TestAAEStatus(t *testing.T) {
	f := aaeFixture()
	r := do(t, serveAAE(f), "GET", "/admin/aae", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	got := decodeAs[antientropy.Status](t, r.body)
	want := aaeFixture().AntiEntropy
	// Sorted by partition, and each partition's exchanges by tree, then
	// peer.
	want.Partitions[0], want.Partitions[1] = want.Partitions[1], want.Partitions[0]
	ex := want.Partitions[1].Exchanges
	ex[0], ex[1] = ex[1], ex[0]
	want.Partitions[0].Exchanges = []antientropy.PeerStatus{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
	// A partition with no exchange yet has [], not null; an exchange
	// without error has no last_error.
	for _, s := range []string{`{"partition":0,"tree_built":"0001-01-01T00:00:00Z","keys":0,"exchanges":[],`,
		`"last_repaired":0}`} {
		if !strings.Contains(string(r.body), s) {
			t.Errorf("body does not hold %s:\n%s", s, r.body)
		}
	}
	if !reflect.DeepEqual(f.Calls, []string{"AAEStatus"}) {
		t.Errorf("calls %v", f.Calls)
	}
	if r := do(t, serveAAE(f), "HEAD", "/admin/aae", ""); r.status != http.StatusOK {
		t.Errorf("HEAD: status %d", r.status)
	}
}

func TestAAEStatusEmpty(t *testing.T) {
	f := NewFake()
	r := do(t, serveAAE(f), "GET", "/admin/aae", "")
	want := `{"node":"","enabled":true,"window":"always","now":"0001-01-01T00:00:00Z","running":0,` +
		`"exchanges":0,"keys_compared":0,"keys_repaired":0,"bytes":0,"tree_bytes":0,"partitions":[]}` + "\n"
	if r.status != http.StatusOK || string(r.body) != want {
		t.Errorf("status %d, body %s; want 200 %s", r.status, r.body, want)
	}
}

func TestAAEControl(t *testing.T) {
	for _, tc := range []struct {
		body    string
		enabled bool
		window  string
	}{
		{`{"enabled":false}`, false, "always"},
		{`{"enabled":true}`, true, "always"},
		{`{"window":"02:00-06:00"}`, true, "02:00-06:00"},
		{`{"window":"22:30-04:15"}`, true, "22:30-04:15"},
		{`{"enabled":false,"window":"00:00-23:59"}`, false, "00:00-23:59"},
		{`{"window":"always"}`, true, "always"},
		{`{"window":""}`, true, "always"},
		{` {"enabled": false} ` + "\n", false, "always"},
	} {
		t.Run(tc.body, func(t *testing.T) {
			f := aaeFixture()
			r := do(t, serveAAE(f), "POST", "/admin/aae", tc.body)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			got := decodeAs[antientropy.Status](t, r.body)
			if got.Enabled != tc.enabled || got.Window != tc.window {
				t.Errorf("answered enabled %v, window %q; want %v, %q", got.Enabled, got.Window, tc.enabled, tc.window)
			}
			if f.AntiEntropy.Enabled != tc.enabled || f.AntiEntropy.Window != tc.window {
				t.Errorf("fake has enabled %v, window %q; want %v, %q", f.AntiEntropy.Enabled, f.AntiEntropy.Window, tc.enabled, tc.window)
			}
			// The rest of the status comes back, sorted as GET answers it.
			if got.Node != "n1" || got.Exchanges != 42 || len(got.Partitions) != 2 || got.Partitions[0].Partition != 0 {
				t.Errorf("status %+v", got)
			}
			if !reflect.DeepEqual(f.Calls, []string{"ControlAAE"}) {
				t.Errorf("calls %v", f.Calls)
			}
		})
	}
}

func TestAAEControlErrors(t *testing.T) {
	for _, tc := range []struct {
		body   string
		status int
		msg    string
		calls  bool // whether the request reaches the AAE
	}{
		{`{"window":"2-6"}`, http.StatusBadRequest, `antientropy: bad window "2-6"`, true},
		{`{"window":"2am"}`, http.StatusBadRequest, `antientropy: bad window "2am": want "always" or HH:MM-HH:MM`, true},
		{`{"window":"02:00-24:00"}`, http.StatusBadRequest, "bad window", true},
		{`{"window":"02:00-02:00"}`, http.StatusBadRequest, "bad window", true},
		{`{"enabled":false,"window":"never"}`, http.StatusBadRequest, "bad window", true},
		{`{}`, http.StatusBadRequest, `empty anti-entropy control: want {"enabled":true|false} and/or {"window":`, false},
		{`{"enabled":null}`, http.StatusBadRequest, "empty anti-entropy control", false},
		{``, http.StatusBadRequest, "empty request body", false},
		{`{"enable":true}`, http.StatusBadRequest, `unknown field "enable"`, false},
		{`{"enabled":"yes"}`, http.StatusBadRequest, "malformed JSON", false},
		{`{"enabled":true}{"enabled":false}`, http.StatusBadRequest, "data after the JSON value", false},
	} {
		t.Run(tc.body, func(t *testing.T) {
			f := aaeFixture()
			r := do(t, serveAAE(f), "POST", "/admin/aae", tc.body)
			if r.status != tc.status {
				t.Errorf("status %d, want %d (%s)", r.status, tc.status, r.body)
			}
			if msg := errorMessage(t, r); !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q does not say %q", msg, tc.msg)
			}
			if called := len(f.Calls) > 0; called != tc.calls {
				t.Errorf("AAE called: %v, want %v (%v)", called, tc.calls, f.Calls)
			}
			if want := aaeFixture().AntiEntropy; !reflect.DeepEqual(f.AntiEntropy, want) {
				t.Errorf("a failed request changed the status: %+v", f.AntiEntropy)
			}
		})
	}
}

func TestAAEErrorStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{node.ErrUnavailable, http.StatusServiceUnavailable},
		{node.ErrClosed, http.StatusServiceUnavailable},
		{antientropy.ErrBadWindow, http.StatusBadRequest},
		{errors.New("disk on fire"), http.StatusInternalServerError},
	} {
		for _, req := range []struct{ method, body string }{
			{"GET", ""},
			{"POST", `{"enabled":false}`},
		} {
			f := aaeFixture()
			f.FailNext(tc.err)
			r := do(t, serveAAE(f), req.method, "/admin/aae", req.body)
			if r.status != tc.status {
				t.Errorf("%v on %s: status %d, want %d", tc.err, req.method, r.status, tc.status)
			}
			if msg := errorMessage(t, r); !strings.Contains(msg, tc.err.Error()) {
				t.Errorf("message %q does not say %q", msg, tc.err)
			}
		}
	}
}

func TestAAENotImplemented(t *testing.T) {
	f := aaeFixture()
	for _, h := range []http.Handler{New(f, nil), NewWithTransfers(f, f, nil), NewWithServices(f, Services{Transfers: f}, nil)} {
		for _, req := range []struct{ method, body string }{
			{"GET", ""},
			{"POST", `{"enabled":false}`},
		} {
			r := do(t, h, req.method, "/admin/aae", req.body)
			if r.status != http.StatusNotImplemented {
				t.Errorf("%s: status %d, want 501", req.method, r.status)
			}
			if msg := errorMessage(t, r); !strings.Contains(msg, "does not report anti-entropy") {
				t.Errorf("%s: message %q", req.method, msg)
			}
		}
	}
	if len(f.Calls) != 0 {
		t.Errorf("calls %v", f.Calls)
	}
	// An API with an AAE and no Transfers still answers 501 for transfers.
	if r := do(t, NewWithServices(f, Services{AAE: f}, nil), "GET", "/admin/transfers", ""); r.status != http.StatusNotImplemented {
		t.Errorf("transfers without Transfers: status %d, want 501", r.status)
	}
}

func TestAAEMethods(t *testing.T) {
	f := aaeFixture()
	for _, method := range []string{"PUT", "DELETE", "PATCH"} {
		r := do(t, serveAAE(f), method, "/admin/aae", `{"enabled":false}`)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD, POST" {
			t.Errorf("%s: status %d, Allow %q; want 405 %q", method, r.status, r.header.Get("Allow"), "GET, HEAD, POST")
		}
	}
	if r := do(t, serveAAE(f), "GET", "/admin/aae/status", ""); r.status != http.StatusNotFound {
		t.Errorf("GET /admin/aae/status: status %d, want 404", r.status)
	}
	if len(f.Calls) != 0 {
		t.Errorf("calls %v", f.Calls)
	}
}
