package main

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
)

// TestClusterStatus checks the table, with the leader and who is down
// from the node's GET /admin/cluster: one request.
func TestClusterStatus(t *testing.T) {
	f := fixture()
	f.StagedChanges = []meta.Change{{Kind: meta.ChangeJoin, Node: "n4"}, {Kind: meta.ChangeReplace, Node: "n3", Target: "n5"}}
	f.DownNodes = []string{"n3"}
	n := serveAdmin(t, gossipAPI(f))
	golden(t, "cluster-status.golden", ok(t, cairnctl(t, n.url, "cluster", "status")))
	n.asked(t, "/admin/cluster")
}

// TestClusterStatusOlderNode checks cluster status against a node that
// does not report the leader and who is down: it asks as it used to, and
// prints the same table.
func TestClusterStatusOlderNode(t *testing.T) {
	f := fixture()
	f.StagedChanges = []meta.Change{{Kind: meta.ChangeJoin, Node: "n4"}, {Kind: meta.ChangeReplace, Node: "n3", Target: "n5"}}
	f.Unreachable = []string{"n3"}
	n := serveAdmin(t, olderNode(t, gossipAPI(f)))
	golden(t, "cluster-status.golden", ok(t, cairnctl(t, n.url, "cluster", "status")))
	n.asked(t, "/admin/cluster", "/admin/transfers", "/admin/raft")
}

// TestClusterStatusUnknowns checks what cluster status says when the
// node cannot tell who leads or who is down: the table stays, with notes.
func TestClusterStatusUnknowns(t *testing.T) {
	f := fixture()
	f.RingState = nil
	f.MemberList = f.MemberList[:2]
	f.Raft.Leader, f.Raft.LeaderAddr, f.Raft.State = "", "", "Candidate"
	for _, tc := range []struct {
		name  string
		h     http.Handler
		paths []string
		note  string
	}{
		// serve's API has no Liveness, nor Transfers: /admin/transfers answers 501.
		{"no liveness", adminapi.New(f, nil), []string{"/admin/cluster"},
			"AVAIL unknown: the node does not track its members' liveness (it runs without gossip)"},
		{"older node", olderNode(t, adminapi.New(f, nil)), []string{"/admin/cluster", "/admin/transfers", "/admin/raft"},
			"AVAIL unknown: adminapi: this node's admin API does not report transfers (it was started without a Transfers)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := serveAdmin(t, tc.h)
			out := ok(t, cairnctl(t, n.url, "cluster", "status"))
			n.asked(t, tc.paths...)
			want := lines(`
				ring: not initialised

				NODE  STATE  AVAIL  RING  PENDING  HTTP
				n1    valid  ?      0.0%  --       10.0.0.1:8098
				n2    valid  ?      0.0%  --       10.0.0.2:8098
				` + tc.note + `
				the Raft group has no leader (no quorum?): ring changes cannot be committed

				no staged changes
				`)
			if out != want {
				t.Errorf("got\n%s\nwant\n%s", out, want)
			}
		})
	}
}

// TestClusterStatusGossip checks AVAIL comes from gossip whatever the
// members' state, and the leader from the node's answer.
func TestClusterStatusGossip(t *testing.T) {
	f := fixture()
	f.Raft.Leader = "n2"
	f.MemberList[0].State = meta.Down // marked down, but gossip has it up
	f.DownNodes = []string{"n4", "n9"}
	n := serveAdmin(t, gossipAPI(f))
	out := ok(t, cairnctl(t, n.url, "cluster", "status"))
	n.asked(t, "/admin/cluster")
	for _, want := range []string{"\nn1      down     up     37.5%", "\n(C) n2  valid    up", "\nn4      joining  down", "\n(C): the Raft leader"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "n9") || strings.Contains(out, "unknown") {
		t.Errorf("output names a non-member or an unknown:\n%s", out)
	}
}

// TestClusterStatusLeaderOnly checks an older node that knows the leader
// but cannot say who answers.
func TestClusterStatusLeaderOnly(t *testing.T) {
	f := fixture()
	f.Raft.Leader = "n2"
	f.FailNext(nil)              // GET /admin/cluster: Members
	f.FailNext(nil)              // Ring
	f.FailNext(nil)              // Staged
	f.FailNext(nil)              // RaftStatus
	f.FailNext(meta.ErrNoQuorum) // GET /admin/transfers: ListTransfers
	n := serveAdmin(t, olderNode(t, gossipAPI(f)))
	out := ok(t, cairnctl(t, n.url, "cluster", "status"))
	n.asked(t, "/admin/cluster", "/admin/transfers", "/admin/raft")
	for _, want := range []string{"\n(C) n2  valid    ?      37.5%", "\nn1      valid    ?", "AVAIL unknown: meta: no quorum"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
}

func TestStage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want meta.Change
		out  string
	}{
		{[]string{"join", "n4"}, meta.Change{Kind: meta.ChangeJoin, Node: "n4"}, "join n4"},
		{[]string{"leave", "n2"}, meta.Change{Kind: meta.ChangeLeave, Node: "n2"}, "leave n2"},
		{[]string{"force-remove", "n3"}, meta.Change{Kind: meta.ChangeForceRemove, Node: "n3"}, "force-remove n3"},
		{[]string{"replace", "n3", "n4"}, meta.Change{Kind: meta.ChangeReplace, Node: "n3", Target: "n4"}, "replace n3 with n4"},
		{[]string{"force-replace", "n1", "n4"}, meta.Change{Kind: meta.ChangeForceReplace, Node: "n1", Target: "n4"}, "force-replace n1 with n4"},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			f := fixture()
			out := ok(t, cairnctl(t, serve(t, f), append([]string{"cluster"}, tc.args...)...))
			if want := "staged: " + tc.out + "; run 'cairnctl cluster plan' then 'cairnctl cluster commit'\n"; out != want {
				t.Errorf("stdout %q, want %q", out, want)
			}
			if want := []meta.Change{tc.want}; !reflect.DeepEqual(f.StagedChanges, want) {
				t.Errorf("staged %+v, want %+v", f.StagedChanges, want)
			}
		})
	}
}

func TestStageErrors(t *testing.T) {
	f := fixture()
	url := serve(t, f)
	failed(t, cairnctl(t, url, "cluster", "join", "n9"), `meta: unknown member: "n9"`)
	failed(t, cairnctl(t, url, "cluster", "join", "n1"), "meta: invalid cluster change: n1 is valid, not joining")
	failed(t, cairnctl(t, url, "cluster", "replace", "n1", "n1"), "cannot replace n1 with itself")
	failed(t, cairnctl(t, url, "cluster", "join"), "accepts 1 arg(s), received 0")
	failed(t, cairnctl(t, url, "cluster", "join", "n4", "n5"), "accepts 1 arg(s), received 2")
	failed(t, cairnctl(t, url, "cluster", "replace", "n3"), "accepts 2 arg(s), received 1")
	if len(f.StagedChanges) != 0 {
		t.Errorf("staged %+v after failures", f.StagedChanges)
	}
	if want := []string{"Stage", "Stage"}; !reflect.DeepEqual(f.Calls, want) {
		t.Errorf("calls %v, want %v (bad arguments must not reach the node)", f.Calls, want)
	}
}

// plannedFixture has two staged changes and the plan for them.
func plannedFixture() *meta.Plan {
	return &meta.Plan{Epoch: 5,
		Changes: []meta.Change{{Kind: meta.ChangeJoin, Node: "n4"}, {Kind: meta.ChangeLeave, Node: "n3"}},
		Nodes: []meta.NodePlan{
			{ID: "n1", State: meta.Valid, RingPct: 37.5, NextPct: 37.5, Partitions: 3, Next: 3},
			{ID: "n2", State: meta.Valid, RingPct: 37.5, NextPct: 25, PendingPct: 12.5, Partitions: 3, Next: 2},
			{ID: "n3", State: meta.Leaving, RingPct: 25, PendingPct: 25, Partitions: 2},
			{ID: "n4", State: meta.Valid, NextPct: 37.5, PendingPct: 37.5, Next: 3},
		},
		Transfers: []meta.PairTransfers{{From: "n2", To: "n4", Partitions: 1}, {From: "n3", To: "n4", Partitions: 2}},
		Next:      []string{"n1", "n4", "n4", "n1", "n2", "n4", "n1", "n2"},
		Warnings:  []string{"partition 2: 2 replicas on n4"},
	}
}

func TestClusterPlan(t *testing.T) {
	f := fixture()
	f.PlanResult = plannedFixture()
	f.StagedChanges = f.PlanResult.Changes
	out := ok(t, cairnctl(t, serve(t, f), "cluster", "plan"))
	want := lines(`
		staged changes (ring epoch 5):
		  ACTION  NODE  NEW
		  join    n4    -
		  leave   n3    -

		NODE  STATE    RING   NEXT   PENDING
		n1    valid    37.5%  37.5%  0.0%
		n2    valid    37.5%  25.0%  12.5%
		n3    leaving  25.0%  0.0%   25.0%
		n4    valid    0.0%   37.5%  37.5%

		transfers resulting from these changes: 3
		  FROM  TO  PARTITIONS
		  n2    n4  1
		  n3    n4  2

		WARNING: partition 2: 2 replicas on n4

		run 'cairnctl cluster commit' to apply these changes, 'cairnctl cluster clear' to drop them
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestClusterPlanWithoutTransfers(t *testing.T) {
	f := fixture()
	f.StagedChanges = []meta.Change{{Kind: meta.ChangeJoin, Node: "n4"}}
	out := ok(t, cairnctl(t, serve(t, f), "cluster", "plan"))
	want := lines(`
		staged changes (ring epoch 5):
		  ACTION  NODE  NEW
		  join    n4    -

		NODE  STATE    RING   NEXT   PENDING
		n1    valid    37.5%  37.5%  0.0%
		n2    valid    37.5%  37.5%  0.0%
		n3    valid    25.0%  25.0%  0.0%
		n4    joining  0.0%   0.0%   0.0%

		no partition transfers

		run 'cairnctl cluster commit' to apply these changes, 'cairnctl cluster clear' to drop them
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestClusterPlanNothingStaged(t *testing.T) {
	url := serve(t, fixture())
	for _, what := range []string{"plan", "commit"} {
		failed(t, cairnctl(t, url, "cluster", what), "meta: no staged changes: nothing to "+what,
			"stage a change first with 'cairnctl cluster join|leave|force-remove|replace|force-replace'")
		failed(t, cairnctl(t, url, "-o", "json", "cluster", what), "meta: no staged changes")
	}
}

func TestClusterCommit(t *testing.T) {
	f := fixture()
	f.PlanResult = plannedFixture()
	f.StagedChanges = f.PlanResult.Changes
	url := serve(t, f)
	out := ok(t, cairnctl(t, url, "cluster", "commit"))
	want := lines(`
		cluster changes committed (planned at ring epoch 5): join n4, leave n3
		3 partitions to transfer; follow them with 'cairnctl ring'
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if len(f.StagedChanges) != 0 || f.RingState.Epoch != 6 {
		t.Errorf("after commit: staged %+v, epoch %d", f.StagedChanges, f.RingState.Epoch)
	}
	failed(t, cairnctl(t, url, "cluster", "commit"), "meta: no staged changes")

	f.StagedChanges = []meta.Change{{Kind: meta.ChangeLeave, Node: "n2"}}
	f.FailNext(meta.ErrStaleEpoch)
	failed(t, cairnctl(t, url, "cluster", "commit"), "meta: ring epoch changed since the plan")
}

func TestClusterClear(t *testing.T) {
	f := fixture()
	f.StagedChanges = []meta.Change{{Kind: meta.ChangeJoin, Node: "n4"}}
	url := serve(t, f)
	if out := ok(t, cairnctl(t, url, "cluster", "clear")); out != "cleared the staged changes\n" {
		t.Errorf("stdout %q", out)
	}
	if len(f.StagedChanges) != 0 {
		t.Errorf("staged %+v after clear", f.StagedChanges)
	}
	f.FailNext(meta.ErrNoQuorum)
	failed(t, cairnctl(t, url, "cluster", "clear"), "meta: no quorum: node: unavailable")
}

func TestRing(t *testing.T) {
	f := fixture()
	f.RingState.Pending = append(f.RingState.Pending,
		meta.Transfer{Partition: 0, From: "n1", To: "n4"}, meta.Transfer{Partition: 3, From: "n1", To: "n4"})
	out := ok(t, cairnctl(t, serve(t, f), "ring"))
	want := lines(`
		ring epoch 5, 8 partitions, target n_val 3

		NODE  PARTITIONS  RING   NEXT  NEXT RING
		n1    3           37.5%  1     12.5%
		n2    3           37.5%  2     25.0%
		n3    2           25.0%  3     37.5%
		n4    0           0.0%   2     25.0%

		pending transfers: 3
		  FROM  TO  PARTITIONS
		  n1    n4  2
		  n2    n3  1
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestRingWithoutTransfers(t *testing.T) {
	f := fixture()
	f.RingState.Pending = nil
	out := ok(t, cairnctl(t, serve(t, f), "ring"))
	want := lines(`
		ring epoch 5, 8 partitions, target n_val 3

		NODE  PARTITIONS  RING   NEXT  NEXT RING
		n1    3           37.5%  3     37.5%
		n2    3           37.5%  3     37.5%
		n3    2           25.0%  2     25.0%

		no pending transfers
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestRingNotInitialised(t *testing.T) {
	f := fixture()
	f.RingState = nil
	failed(t, cairnctl(t, serve(t, f), "ring"), "meta: ring not initialised")
}
