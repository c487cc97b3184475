package main

import (
	"testing"

	"github.com/cairnkv/cairn/meta"
)

func TestMemberStatus(t *testing.T) {
	f := fixture()
	f.MemberList = []meta.Member{
		{ID: "n1", State: meta.Valid}, {ID: "n2", State: meta.Valid}, {ID: "n3", State: meta.Leaving},
		{ID: "n4", State: meta.Valid}, {ID: "n5", State: meta.Exiting}, {ID: "n6", State: meta.Down},
		{ID: "n7", State: meta.Joining},
	}
	f.RingState = &meta.RingState{Size: 8, TargetN: 3, Epoch: 9,
		Owners:  []string{"n1", "n2", "n3", "n4", "n1", "n2", "n3", "n6"},
		Pending: []meta.Transfer{{Partition: 2, From: "n3", To: "n4"}, {Partition: 6, From: "n3", To: "n2"}}}
	f.Unreachable = []string{"n6"}
	golden(t, "member-status.golden", ok(t, cairnctl(t, serveTransfers(t, f), "member-status")))
}

func TestMemberStatusBeforeRing(t *testing.T) {
	f := fixture()
	f.RingState = nil
	f.MemberList = f.MemberList[:1]
	// serve's API cannot tell who answers: member-status says nothing of it.
	out := ok(t, cairnctl(t, serve(t, f), "member-status"))
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
