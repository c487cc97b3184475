package main

import (
	"testing"
)

func TestRaftStatus(t *testing.T) {
	out := ok(t, cairnctl(t, serve(t, fixture()), "raft", "status"))
	want := lines(`
		leader:         n1 (10.0.0.1:8300)
		this node:      n1 (Leader)
		term:           3
		last index:     42
		commit index:   42
		applied index:  41
		voters:         3 (target 3)

		ID  ADDRESS        SUFFRAGE  LEADER  HEALTHY
		n1  10.0.0.1:8300  Voter     *       yes
		n2  10.0.0.2:8300  Voter             yes
		n3  10.0.0.3:8300  Nonvoter          no
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestRaftStatusOnFollower(t *testing.T) {
	f := fixture()
	f.Raft.ID, f.Raft.State = "n2", "Follower"
	out := ok(t, cairnctl(t, serve(t, f), "raft", "status"))
	want := lines(`
		leader:         n1 (10.0.0.1:8300)
		this node:      n2 (Follower)
		term:           3
		last index:     42
		commit index:   42
		applied index:  41
		voters:         3 (target 3)

		ID  ADDRESS        SUFFRAGE  LEADER  HEALTHY
		n1  10.0.0.1:8300  Voter     *       -
		n2  10.0.0.2:8300  Voter             -
		n3  10.0.0.3:8300  Nonvoter          -

		health is known only to the leader: ask it (--node) for the HEALTHY column
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestRaftStatusWithoutLeader(t *testing.T) {
	f := fixture()
	f.Raft.Leader, f.Raft.LeaderAddr, f.Raft.State = "", "", "Candidate"
	out := ok(t, cairnctl(t, serve(t, f), "raft", "status"))
	if want := "leader:         none (no quorum?)\n"; out[:len(want)] != want {
		t.Errorf("got\n%s\nwant it to start %q", out, want)
	}
}

func TestRaftRemovePeer(t *testing.T) {
	f := fixture()
	url := serve(t, f)
	out := ok(t, cairnctl(t, url, "raft", "remove-peer", "n3"))
	if out != "removed n3 from the raft configuration\n" {
		t.Errorf("stdout %q", out)
	}
	if len(f.Raft.Servers) != 2 {
		t.Errorf("servers %+v, want n3 gone", f.Raft.Servers)
	}
	failed(t, cairnctl(t, url, "raft", "remove-peer", "n3"), `meta: unknown member: "n3" is not in the raft configuration`)
	failed(t, cairnctl(t, url, "raft", "remove-peer"), "accepts 1 arg(s), received 0")
	// JSON mode: the API answers 204, so there is nothing to print.
	if out := ok(t, cairnctl(t, url, "-o", "json", "raft", "remove-peer", "n2")); out != "" {
		t.Errorf("json stdout %q, want nothing", out)
	}
}
