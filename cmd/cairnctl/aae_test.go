package main

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/cairnkv/cairn/node"
)

// aaeFixture is fixture with n1's anti-entropy: partition 0 exchanged with
// both its peers, 3 failing with one of them, 6 not built yet, listed out
// of order (the API sorts).
func aaeFixture() *adminapi.Fake {
	f := fixture()
	f.AntiEntropy = antientropy.Status{Node: "n1", Enabled: true, Window: "always", Now: t0, Running: 1,
		Exchanges: 42, KeysCompared: 12345, KeysRepaired: 17, Bytes: 3 << 20,
		Partitions: []antientropy.PartitionStatus{
			{Partition: 3, TreeBuilt: t0.Add(-3 * time.Minute), Keys: 1200,
				Exchanges: []antientropy.PeerStatus{
					{Peer: "n3", PeerPartition: 5, Primary: 3, N: 3, Last: t0.Add(-12 * time.Second)},
					{Peer: "n2", PeerPartition: 4, Primary: 3, N: 3, Last: t0.Add(-40 * time.Second), LastRepaired: 2,
						LastError: "rpc: dial tcp 10.0.0.2:8099:\tconnection refused\n"},
				},
				Repaired: antientropy.RepairStats{Last: 2, Mean: 0.5, Max: 3, Total: 5, Exchanges: 10}},
			{Partition: 0, TreeBuilt: t0.Add(-26 * time.Hour), Keys: 98765,
				Exchanges: []antientropy.PeerStatus{
					{Peer: "n2", PeerPartition: 1, Primary: 0, N: 3, Last: t0.Add(-5 * time.Minute), LastRepaired: 0},
					{Peer: "n2", PeerPartition: 1, Primary: 6, N: 3, Last: t0.Add(-90 * time.Minute), LastRepaired: 7},
					{Peer: "n3", PeerPartition: 2, Primary: 0, N: 3, Last: t0.Add(-500 * time.Millisecond)},
				},
				Repaired: antientropy.RepairStats{Last: 0, Mean: 1.25, Max: 7, Total: 10, Exchanges: 8}},
			{Partition: 6, Keys: 0, Exchanges: []antientropy.PeerStatus{
				{Peer: "n1", PeerPartition: 7, Primary: 6, N: 3},
			}},
		}}
	return f
}

// serveAAE runs the admin API over f, f answering for anti-entropy too.
func serveAAE(t *testing.T, f *adminapi.Fake) string {
	t.Helper()
	srv := httptest.NewServer(adminapi.NewWithServices(f, adminapi.Services{Transfers: f, AAE: f}, nil))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAAEStatus(t *testing.T) {
	out := ok(t, cairnctl(t, serveAAE(t, aaeFixture()), "aae-status"))
	want := lines(`
		node n1: anti-entropy enabled, window always, 1 exchange running
		since start: 42 exchanges, 12345 keys compared, 17 keys repaired, 3.0 MiB exchanged

		PARTITION  TREE BUILT  KEYS   EXCHANGES                REPAIRED LAST/MEAN/MAX  LAST ERROR
		0          26h ago     98765  2 peers, oldest 1h ago   0/1.2/7                 -
		3          3m ago      1200   2 peers, oldest 40s ago  2/0.5/3                 n2/4: rpc: dial tcp 10.0.0.2:8099: connection refused
		6          never       0      1 peer, oldest never     -                       -
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestAAEStatusExchanges(t *testing.T) {
	f := aaeFixture()
	f.AntiEntropy.Enabled, f.AntiEntropy.Window, f.AntiEntropy.Running = false, "02:00-06:00", 0
	out := ok(t, cairnctl(t, serveAAE(t, f), "aae-status", "--exchanges"))
	want := lines(`
		node n1: anti-entropy disabled, window 02:00-06:00 UTC, 0 exchanges running
		since start: 42 exchanges, 12345 keys compared, 17 keys repaired, 3.0 MiB exchanged

		PARTITION  TREE  PEER  LAST EXCHANGE  REPAIRED  LAST ERROR
		0          0/3   n2/1  5m ago         0         -
		0          0/3   n3/2  <1s ago        0         -
		0          6/3   n2/1  1h ago         7         -
		3          3/3   n2/4  40s ago        2         rpc: dial tcp 10.0.0.2:8099: connection refused
		3          3/3   n3/5  12s ago        0         -
		6          6/3   n1/7  never          -         -
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestAAEStatusEmpty(t *testing.T) {
	f := fixture()
	f.AntiEntropy.Node = "n4"
	url := serveAAE(t, f)
	want := "node n4: anti-entropy enabled, window always, 0 exchanges running\n" +
		"since start: 0 exchanges, 0 keys compared, 0 keys repaired, 0 B exchanged\n\n"
	if out := ok(t, cairnctl(t, url, "aae-status")); out != want+"no partitions on this node\n" {
		t.Errorf("got\n%s", out)
	}
	if out := ok(t, cairnctl(t, url, "aae-status", "--exchanges")); out != want+"no exchanges\n" {
		t.Errorf("--exchanges: got\n%s", out)
	}
}

func TestAAEStatusJSON(t *testing.T) {
	f := aaeFixture()
	out := ok(t, cairnctl(t, serveAAE(t, f), "-o", "json", "aae-status"))
	got := decodeJSON[antientropy.Status](t, out)
	if got.Node != "n1" || got.Now != t0 || got.Bytes != 3<<20 || len(got.Partitions) != 3 {
		t.Fatalf("%+v", got)
	}
	if p := got.Partitions[1]; p.Partition != 3 || !reflect.DeepEqual(p.Repaired, f.AntiEntropy.Partitions[0].Repaired) ||
		len(p.Exchanges) != 2 || p.Exchanges[0].LastError != f.AntiEntropy.Partitions[0].Exchanges[1].LastError {
		t.Errorf("partition 3: %+v", p)
	}
	// --exchanges changes the table only.
	if out2 := ok(t, cairnctl(t, serveAAE(t, f), "-o", "json", "aae-status", "--exchanges")); out2 != out {
		t.Errorf("-o json --exchanges printed\n%s\nwant\n%s", out2, out)
	}
}

func TestAAEControl(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		enabled bool
		window  string
		out     string
	}{
		{[]string{"disable"}, false, "always", "n1: anti-entropy disabled, window always\n"},
		{[]string{"enable"}, true, "always", "n1: anti-entropy enabled, window always\n"},
		{[]string{"window", "02:00-06:00"}, true, "02:00-06:00", "n1: anti-entropy enabled, window 02:00-06:00 UTC\n"},
		{[]string{"window", "always"}, true, "always", "n1: anti-entropy enabled, window always\n"},
		{[]string{"window", "22:00-04:30"}, true, "22:00-04:30", "n1: anti-entropy enabled, window 22:00-04:30 UTC\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f := aaeFixture()
			f.AntiEntropy.Window = "22:00-23:00"
			if tc.window == "always" && tc.args[0] != "window" {
				f.AntiEntropy.Window = "always"
			}
			url := serveAAE(t, f)
			if out := ok(t, cairnctl(t, url, append([]string{"aae"}, tc.args...)...)); out != tc.out {
				t.Errorf("stdout %q, want %q", out, tc.out)
			}
			if f.AntiEntropy.Enabled != tc.enabled || f.AntiEntropy.Window != tc.window {
				t.Errorf("node has enabled %v, window %q; want %v, %q", f.AntiEntropy.Enabled, f.AntiEntropy.Window, tc.enabled, tc.window)
			}
			if want := []string{"ControlAAE"}; !reflect.DeepEqual(f.Calls, want) {
				t.Errorf("calls %v, want %v", f.Calls, want)
			}
			// JSON mode prints the node's new status.
			got := decodeJSON[antientropy.Status](t, ok(t, cairnctl(t, url, append([]string{"-o", "json", "aae"}, tc.args...)...)))
			if got.Node != "n1" || got.Enabled != tc.enabled || got.Window != tc.window || len(got.Partitions) != 3 {
				t.Errorf("json: %+v", got)
			}
		})
	}
}

func TestAAEErrors(t *testing.T) {
	f := aaeFixture()
	url := serveAAE(t, f)
	failed(t, cairnctl(t, url, "aae", "window", "2am-6am"), `antientropy: bad window "2am-6am": start: "2am" is not HH:MM`)
	failed(t, cairnctl(t, url, "aae", "window", "06:00-06:00", "--all"), `antientropy: bad window "06:00-06:00": start equals end`)
	failed(t, cairnctl(t, url, "aae", "window"), "accepts 1 arg(s), received 0")
	failed(t, cairnctl(t, url, "aae", "window", "01:00-02:00", "always"), "accepts 1 arg(s), received 2")
	failed(t, cairnctl(t, url, "aae", "enable", "now"), `unknown command "now" for "cairnctl aae enable"`)
	failed(t, cairnctl(t, url, "aae", "pause"), `unknown command "pause" for "cairnctl aae"`)
	failed(t, cairnctl(t, url, "aae-status", "extra"), `unknown command "extra" for "cairnctl aae-status"`)
	if len(f.Calls) != 0 {
		t.Errorf("calls %v (bad arguments must not reach the node)", f.Calls)
	}
	if f.AntiEntropy.Window != "always" {
		t.Errorf("window %q after a bad one", f.AntiEntropy.Window)
	}

	f.FailNext(node.ErrClosed)
	failed(t, cairnctl(t, url, "aae-status"), "node: closed")
	f.FailNext(node.ErrClosed)
	failed(t, cairnctl(t, url, "aae", "disable"), "node: closed")

	// A node whose admin API has no AAE.
	url = serve(t, aaeFixture())
	for _, args := range [][]string{{"aae-status"}, {"aae", "enable"}, {"-o", "json", "aae-status"}} {
		failed(t, cairnctl(t, url, args...), "does not report anti-entropy")
	}
}

// aaeCluster serves two nodes' admin APIs, n1 and n2, each with its own
// AAE, and a third member n3 that does not answer; n1's Cluster lists all
// three. It returns n1's URL and the two fakes.
func aaeCluster(t *testing.T) (string, *adminapi.Fake, *adminapi.Fake) {
	t.Helper()
	n1, n2 := aaeFixture(), adminapi.NewFake()
	n2.AntiEntropy.Node = "n2"
	url1, url2 := serveAAE(t, n1), serveAAE(t, n2)
	n1.MemberList = []meta.Member{
		{ID: "n1", State: meta.Valid, HTTPAddr: strings.TrimPrefix(url1, "http://")},
		{ID: "n2", State: meta.Valid, HTTPAddr: url2},
	}
	return url1, n1, n2
}

func TestAAEAll(t *testing.T) {
	url, n1, n2 := aaeCluster(t)
	out := ok(t, cairnctl(t, url, "aae", "window", "01:00-05:00", "--all"))
	want := lines(`
		NODE  RESULT
		n1    anti-entropy enabled, window 01:00-05:00 UTC
		n2    anti-entropy enabled, window 01:00-05:00 UTC
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	for _, f := range []*adminapi.Fake{n1, n2} {
		if f.AntiEntropy.Window != "01:00-05:00" || !f.AntiEntropy.Enabled {
			t.Errorf("%s: %+v", f.AntiEntropy.Node, f.AntiEntropy)
		}
	}
	if want := []string{"Members", "Ring", "Staged", "RaftStatus", "ControlAAE"}; !reflect.DeepEqual(n1.Calls, want) {
		t.Errorf("n1 calls %v, want %v", n1.Calls, want)
	}

	r := cairnctl(t, url, "-o", "json", "aae", "disable", "--all")
	got := decodeJSON[[]struct {
		Node     string              `json:"node"`
		HTTPAddr string              `json:"http_addr"`
		Status   *antientropy.Status `json:"status"`
	}](t, ok(t, r))
	if len(got) != 2 || got[0].Node != "n1" || got[1].Node != "n2" || got[1].HTTPAddr != n1.MemberList[1].HTTPAddr ||
		got[0].Status == nil || got[0].Status.Enabled || got[1].Status == nil || got[1].Status.Enabled {
		t.Errorf("json: %+v", got)
	}
}

func TestAAEAllFailures(t *testing.T) {
	url, n1, n2 := aaeCluster(t)
	n1.MemberList = append(n1.MemberList,
		meta.Member{ID: "n3", State: meta.Valid, HTTPAddr: closedAddr(t)},
		meta.Member{ID: "n4", State: meta.Joining})
	n2.FailNext(node.ErrClosed)
	r := cairnctl(t, url, "aae", "disable", "--all")
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	want := lines(`
		NODE  RESULT
		n1    anti-entropy disabled, window always
		n2    error: node: closed
		n3    error: cannot connect to the cairn node at http://` + n1.MemberList[2].HTTPAddr + `: connection refused; is it running? point --node (or CAIRN_NODE) at a node's HTTP address
		n4    error: no HTTP address known for this member
		`)
	if r.stdout != want {
		t.Errorf("stdout\n%s\nwant\n%s", r.stdout, want)
	}
	if want := "cairnctl: aae disable failed on 3 of 4 members: n2, n3, n4\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	if n1.AntiEntropy.Enabled || !n2.AntiEntropy.Enabled {
		t.Errorf("n1 enabled %v, n2 enabled %v; want n1 disabled, n2 unchanged", n1.AntiEntropy.Enabled, n2.AntiEntropy.Enabled)
	}

	// Without the member list there is nothing to do.
	n1.FailNext(meta.ErrNoQuorum)
	failed(t, cairnctl(t, url, "aae", "enable", "--all"), "meta: no quorum")
}

func TestAAEHelp(t *testing.T) {
	url := serveAAE(t, aaeFixture())
	for _, args := range [][]string{
		{"aae-status", "--help"},
		{"aae", "--help"},
		{"aae", "enable", "--help"},
		{"aae", "disable", "--help"},
		{"aae", "window", "--help"},
	} {
		out := ok(t, cairnctl(t, url, args...))
		if !strings.Contains(out, "Examples:\n  cairnctl "+args[0]) {
			t.Errorf("%v: no example in\n%s", args, out)
		}
	}
	if out := ok(t, cairnctl(t, url, "aae")); !strings.Contains(out, "Available Commands:") {
		t.Errorf("aae: stdout %q, want help", out)
	}
}

func TestAgo(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "<1s ago"}, {0, "<1s ago"}, {999 * time.Millisecond, "<1s ago"}, {time.Second, "1s ago"},
		{59 * time.Second, "59s ago"}, {time.Minute, "1m ago"}, {119 * time.Second, "1m ago"},
		{time.Hour, "1h ago"}, {47 * time.Hour, "47h ago"}, {48 * time.Hour, "2d ago"}, {400 * time.Hour, "16d ago"},
	} {
		if got := ago(t0, t0.Add(-tc.d)); got != tc.want {
			t.Errorf("ago(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := ago(t0, time.Time{}); got != "never" {
		t.Errorf("ago(zero) = %q", got)
	}
}
