package main

import (
	"testing"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
)

// memberStatusFixture has a member in each state, n6 marked down.
func memberStatusFixture() *adminapi.Fake {
	f := fixture()
	f.MemberList = []meta.Member{
		{ID: "n1", State: meta.Valid}, {ID: "n2", State: meta.Valid}, {ID: "n3", State: meta.Leaving},
		{ID: "n4", State: meta.Valid}, {ID: "n5", State: meta.Exiting}, {ID: "n6", State: meta.Down},
		{ID: "n7", State: meta.Joining},
	}
	f.RingState = &meta.RingState{Size: 8, TargetN: 3, Epoch: 9,
		Owners:  []string{"n1", "n2", "n3", "n4", "n1", "n2", "n3", "n6"},
		Pending: []meta.Transfer{{Partition: 2, From: "n3", To: "n4"}, {Partition: 6, From: "n3", To: "n2"}}}
	return f
}

// TestMemberStatus checks a member gossip reports down is down, and
// counted so, from one request.
func TestMemberStatus(t *testing.T) {
	f := memberStatusFixture()
	f.DownNodes = []string{"n4", "n6"}
	f.Unreachable = []string{"n2"} // what an older node would have said: not asked
	n := serveAdmin(t, gossipAPI(f))
	golden(t, "member-status.golden", ok(t, cairnctl(t, n.url, "member-status")))
	n.asked(t, "/admin/cluster")
}

// TestMemberStatusOlderNode checks member-status against a node that does
// not report who is down: the members that did not answer it are named in
// a warning, their status as it is.
func TestMemberStatusOlderNode(t *testing.T) {
	f := memberStatusFixture()
	f.DownNodes = []string{"n4"} // gossip's view, which an older node does not report
	f.Unreachable = []string{"n6", "n7"}
	n := serveAdmin(t, olderNode(t, gossipAPI(f)))
	out := ok(t, cairnctl(t, n.url, "member-status"))
	n.asked(t, "/admin/cluster", "/admin/transfers")
	want := lines(`
		STATUS   RING   PENDING  NODE
		valid    25.0%  --       n1
		valid    25.0%  37.5%    n2
		leaving  25.0%  0.0%     n3
		valid    12.5%  25.0%    n4
		exiting  0.0%   --       n5
		down     12.5%  --       n6
		joining  0.0%   --       n7

		Valid:3 / Leaving:1 / Exiting:1 / Joining:1 / Down:1
		WARNING: no answer from n6, n7 (see 'cairnctl cluster status')
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestMemberStatusBeforeRing(t *testing.T) {
	f := fixture()
	f.RingState = nil
	f.MemberList = f.MemberList[:1]
	// This API has no liveness: member-status says nothing of it.
	n := serveAdmin(t, adminapi.New(f, nil))
	out := ok(t, cairnctl(t, n.url, "member-status"))
	n.asked(t, "/admin/cluster")
	want := lines(`
		STATUS  RING  PENDING  NODE
		valid   0.0%  --       n1

		Valid:1 / Leaving:0 / Exiting:0 / Joining:0 / Down:0
		the ring is not initialised yet: no member owns a partition
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestMemberStatusErrors(t *testing.T) {
	url := serve(t, fixture())
	failed(t, cairnctl(t, url, "member-status", "n1"), `unknown command "n1" for "cairnctl member-status"`)
	failed(t, cairnctl(t, "127.0.0.1:1", "member-status"), "cannot connect to the cairn node at http://127.0.0.1:1", "connection refused")
}
