package adminapi

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestClusterStatusLiveness(t *testing.T) {
	for _, tc := range []struct {
		name      string
		liveness  bool
		downNodes []string
		down      []string
		source    string
	}{
		{"no liveness source", false, []string{"n3"}, []string{}, LivenessUnknown},
		{"all up", true, nil, []string{}, LivenessGossip},
		// n9 is down but no member: down lists members only, sorted.
		{"some down", true, []string{"n9", "n3", "n1"}, []string{"n1", "n3"}, LivenessGossip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fixture()
			f.DownNodes = tc.downNodes
			s := Services{}
			if tc.liveness {
				s.Liveness = f
			}
			r := do(t, NewWithServices(f, s, nil), "GET", "/admin/cluster", "")
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			got := decodeAs[ClusterStatus](t, r.body)
			if !reflect.DeepEqual(got.Down, tc.down) || got.Liveness != tc.source || got.Leader != "n1" {
				t.Errorf("down %q, liveness %q, leader %q; want %q, %q, n1", got.Down, got.Liveness, got.Leader, tc.down, tc.source)
			}
			if len(tc.down) == 0 && !bytes.Contains(r.body, []byte(`"down":[]`)) {
				t.Errorf("no member down is not [] in %s", r.body)
			}
			if len(got.Members) != 4 || got.Ring == nil {
				t.Errorf("members or ring lost: %s", r.body)
			}
		})
	}
}

func TestClusterStatusLeader(t *testing.T) {
	for _, tc := range []struct {
		name         string
		leader, addr string
		want         string
	}{
		{"leader", "n2", "10.0.0.2:8300", "n2"},
		{"none", "", "", ""},
		{"address only", "", "10.0.0.3:8300", "n3"},
		{"address of no server", "", "10.0.0.9:8300", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fixture()
			f.Raft.Leader, f.Raft.LeaderAddr = tc.leader, tc.addr
			r := do(t, New(f, nil), "GET", "/admin/cluster", "")
			if got := decodeAs[ClusterStatus](t, r.body); r.status != http.StatusOK || got.Leader != tc.want {
				t.Errorf("status %d, leader %q; want 200, %q", r.status, got.Leader, tc.want)
			}
		})
	}
}

// TestClusterStatusRaftFails checks that /admin/cluster answers without
// the leader, and logs why, when the Raft status cannot be read.
func TestClusterStatusRaftFails(t *testing.T) {
	var logs bytes.Buffer
	f := fixture()
	f.DownNodes = []string{"n2"}
	f.FailNext(nil) // Members
	f.FailNext(nil) // Ring
	f.FailNext(nil) // Staged
	f.FailNext(errors.New("raft is shutdown"))
	r := do(t, NewWithServices(f, Services{Liveness: f}, slog.New(slog.NewTextHandler(&logs, nil))), "GET", "/admin/cluster", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	got := decodeAs[ClusterStatus](t, r.body)
	if got.Leader != "" || len(got.Members) != 4 || !reflect.DeepEqual(got.Down, []string{"n2"}) {
		t.Errorf("got %+v", got)
	}
	if want := []string{"Members", "Ring", "Staged", "RaftStatus"}; !reflect.DeepEqual(f.Calls, want) {
		t.Errorf("calls %v, want %v", f.Calls, want)
	}
	if !strings.Contains(logs.String(), "raft is shutdown") {
		t.Errorf("the raft error is not logged: %s", logs.String())
	}
}

// TestClusterStatusConcurrent asks for the cluster status, and so calls
// Up, from many goroutines at once while changes are staged and cleared:
// run with -race.
func TestClusterStatusConcurrent(t *testing.T) {
	f := fixture()
	f.DownNodes = []string{"n4"}
	h := NewWithServices(f, Services{Liveness: f}, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				r := do(t, h, "GET", "/admin/cluster", "")
				if got := decodeAs[ClusterStatus](t, r.body); !reflect.DeepEqual(got.Down, []string{"n4"}) {
					t.Errorf("down %q", got.Down)
				}
			}
		})
	}
	for range 20 {
		if r := do(t, h, "POST", "/admin/cluster/stage", `{"kind":"join","node":"n4"}`); r.status != http.StatusNoContent {
			t.Errorf("stage: %d %s", r.status, r.body)
		}
		if r := do(t, h, "POST", "/admin/cluster/clear", ""); r.status != http.StatusNoContent {
			t.Errorf("clear: %d %s", r.status, r.body)
		}
	}
	wg.Wait()
}
