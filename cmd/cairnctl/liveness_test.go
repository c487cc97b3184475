package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"

	"github.com/cairnkv/cairn/meta/adminapi"
)

// adminNode is an admin API served as a node serves it, recording the
// paths it is asked, in order.
type adminNode struct {
	url   string
	mu    sync.Mutex
	paths []string
}

func serveAdmin(t *testing.T, h http.Handler) *adminNode {
	t.Helper()
	n := &adminNode{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		n.paths = append(n.paths, r.URL.Path)
		n.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	n.url = srv.URL
	return n
}

// asked checks the node was asked exactly paths since the last check.
func (n *adminNode) asked(t *testing.T, paths ...string) {
	t.Helper()
	n.mu.Lock()
	got := n.paths
	n.paths = nil
	n.mu.Unlock()
	if !reflect.DeepEqual(got, paths) {
		t.Errorf("the node was asked %q, want %q", got, paths)
	}
}

// gossipAPI is a node's admin API over f, f's DownNodes as its gossip's
// view. It has f's transfers too, so that asking it as an older node
// would work, and would show in the paths asked.
func gossipAPI(f *adminapi.Fake) http.Handler {
	return adminapi.NewWithServices(f, adminapi.Services{Transfers: f, Liveness: f}, nil)
}

// olderNode answers as a node from before /admin/cluster reported the
// leader and liveness: without those fields.
func olderNode(t *testing.T, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/cluster" {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK && r.Method == http.MethodGet {
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Errorf("older node: %v in %s", err, body)
			}
			for _, k := range []string{"leader", "down", "liveness"} {
				if _, ok := doc[k]; !ok {
					t.Errorf("older node: /admin/cluster has no %s to remove: %s", k, body)
				}
				delete(doc, k)
			}
			body, _ = json.Marshal(doc)
		}
		maps.Copy(w.Header(), rec.Header())
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

// TestLivenessJSON checks the -o json of cluster status and member-status
// carries the leader and who is down, in one request, and decodes
// strictly.
func TestLivenessJSON(t *testing.T) {
	f := fixture()
	f.DownNodes = []string{"n3"}
	f.Unreachable = []string{"n2"} // what an older node would have said: not asked
	n := serveAdmin(t, gossipAPI(f))
	for _, cmd := range [][]string{{"cluster", "status"}, {"member-status"}} {
		out := ok(t, cairnctl(t, n.url, append([]string{"-o", "json"}, cmd...)...))
		n.asked(t, "/admin/cluster")
		st := decodeJSON[adminapi.ClusterStatus](t, out)
		if st.Leader != "n1" || !reflect.DeepEqual(st.Down, []string{"n3"}) || st.Liveness != adminapi.LivenessGossip {
			t.Errorf("%v: leader %q, down %q, liveness %q", cmd, st.Leader, st.Down, st.Liveness)
		}
		requireFields(t, out, "leader", "down.0", "liveness")
	}
}
