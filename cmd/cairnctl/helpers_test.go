package main

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
)

// fixture is a four-member cluster: n1..n3 own an eight-partition ring,
// n4 is joining, and partition 7 is moving from n2 to n3.
func fixture() *adminapi.Fake {
	f := adminapi.NewFake()
	f.Raft = meta.RaftStatus{ID: "n1", State: "Leader", Leader: "n1", LeaderAddr: "10.0.0.1:8300",
		Term: 3, LastIndex: 42, CommitIndex: 42, AppliedIndex: 41, Voters: 3, TargetVoters: 3,
		Servers: []meta.RaftServer{
			{ID: "n1", Address: "10.0.0.1:8300", Suffrage: "Voter", Leader: true, Healthy: true},
			{ID: "n2", Address: "10.0.0.2:8300", Suffrage: "Voter", Healthy: true},
			{ID: "n3", Address: "10.0.0.3:8300", Suffrage: "Nonvoter", Healthy: false},
		}}
	f.MemberList = []meta.Member{
		{ID: "n1", State: meta.Valid, HTTPAddr: "10.0.0.1:8098"},
		{ID: "n2", State: meta.Valid, HTTPAddr: "10.0.0.2:8098"},
		{ID: "n3", State: meta.Valid, HTTPAddr: "10.0.0.3:8098"},
		{ID: "n4", State: meta.Joining},
	}
	f.RingState = &meta.RingState{Size: 8, TargetN: 3, Epoch: 5,
		Owners:  []string{"n1", "n2", "n3", "n1", "n2", "n3", "n1", "n2"},
		Pending: []meta.Transfer{{Partition: 7, From: "n2", To: "n3"}}}
	return f
}

// serve runs the admin API over f and returns its URL.
func serve(t *testing.T, f *adminapi.Fake) string {
	t.Helper()
	srv := httptest.NewServer(adminapi.New(f, nil))
	t.Cleanup(srv.Close)
	return srv.URL
}

// result is what one cairnctl run printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// invocation runs cairnctl as a shell would, with env and stdin.
type invocation struct {
	env   map[string]string
	stdin io.Reader
}

func (inv invocation) run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return inv.env[k] }
	stdin := inv.stdin
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	code := run(context.Background(), args, stdin, &stdout, &stderr, getenv)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// cairnctl runs cairnctl against the node at url.
func cairnctl(t *testing.T, url string, args ...string) result {
	t.Helper()
	return invocation{}.run(t, append([]string{"--node", url}, args...)...)
}

// ok fails the test unless r succeeded without writing to stderr.
func ok(t *testing.T, r result) string {
	t.Helper()
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
	}
	return r.stdout
}

// failed fails the test unless r failed with exit 1, nothing on stdout,
// and one line on stderr containing every one of want.
func failed(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	if !strings.HasPrefix(r.stderr, "cairnctl: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line starting cairnctl: ", r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr %q does not say %q", r.stderr, w)
		}
	}
}

// lines dedents a raw-string golden output: its first newline and the
// tabs that indent it in the source are not part of it.
func lines(s string) string {
	s = strings.TrimPrefix(s, "\n")
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		b.WriteString(strings.TrimLeft(l, "\t"))
	}
	return b.String()
}
