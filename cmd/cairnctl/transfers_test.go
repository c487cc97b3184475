package main

import (
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/handoff"
	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func ownership(p int, from, to string) handoff.ID {
	return handoff.ID{Kind: handoff.Ownership, Partition: p, From: from, To: to}
}

// transferFixture is fixture with n4 joining: partitions 0, 1, 3 to 6
// are moving to n4 and 7 to n3, n4 holds a hint for n3, and n3 does not
// answer. Each transfer state appears.
func transferFixture() *adminapi.Fake {
	f := fixture()
	f.RingState.Pending = []meta.Transfer{
		{Partition: 0, From: "n1", To: "n4"},
		{Partition: 1, From: "n2", To: "n4"},
		{Partition: 3, From: "n1", To: "n4"},
		{Partition: 4, From: "n2", To: "n4"},
		{Partition: 5, From: "n3", To: "n4"},
		{Partition: 6, From: "n1", To: "n4"},
		{Partition: 7, From: "n2", To: "n3"},
	}
	f.TransferStatuses = []handoff.Status{
		{ID: ownership(0, "n1", "n4"), State: handoff.Running, Keys: 420, Bytes: 3 << 20, TotalKeys: 1000,
			Rate: 1536 << 10, ETA: 95 * time.Second, Attempts: 1, Since: t0},
		{ID: ownership(1, "n2", "n4"), State: handoff.Waiting, Since: t0},
		{ID: ownership(3, "n1", "n4"), State: handoff.Retrying, Keys: 10, Bytes: 2048, Attempts: 3,
			LastError: "rpc: dial tcp 10.0.0.4:8099:\tconnection refused\n", Since: t0, RetryAt: t0.Add(8 * time.Second)},
		{ID: ownership(4, "n2", "n4"), State: handoff.Paused, Keys: 5, Bytes: 500, Attempts: 1, Since: t0},
		{ID: ownership(7, "n2", "n3"), State: handoff.Cancelled, Attempts: 1, Since: t0},
		{ID: handoff.ID{Kind: handoff.Hinted, Partition: 2, From: "n4", To: "n3"}, State: handoff.Running,
			Keys: 3, Bytes: 300, Rate: 100, ETA: 500 * time.Millisecond, Attempts: 1, Since: t0},
		{ID: handoff.ID{Kind: handoff.Hinted, Partition: 9, From: "n2", To: "n4"}, State: handoff.Grace,
			Since: t0, RetryAt: t0.Add(time.Minute)},
	}
	f.Unreachable = []string{"n3"}
	f.Behind = []string{"n4"}
	f.RingUnconfirmed = "group: no quorum"
	return f
}

// serveTransfers runs the admin API over f, f answering for transfers
// too.
func serveTransfers(t *testing.T, f *adminapi.Fake) string {
	t.Helper()
	srv := httptest.NewServer(adminapi.NewWithTransfers(f, f, nil))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestTransfers(t *testing.T) {
	out := ok(t, cairnctl(t, serveTransfers(t, transferFixture()), "transfers"))
	want := lines(`
		ID                 STATE      KEYS      BYTES    RATE       ETA    ATTEMPTS  LAST ERROR
		hinted/2/n4/n3     running    3         300 B    100 B/s    <1s    1         -
		hinted/9/n2/n4     grace      0         0 B      -          -      0         -
		ownership/0/n1/n4  running    420/1000  3.0 MiB  1.5 MiB/s  1m35s  1         -
		ownership/1/n2/n4  waiting    0         0 B      -          -      0         -
		ownership/3/n1/n4  retrying   10        2.0 KiB  -          -      3         rpc: dial tcp 10.0.0.4:8099: connection refused
		ownership/4/n2/n4  paused     5         500 B    -          -      1         -
		ownership/7/n2/n3  cancelled  0         0 B      -          -      1         -

		2 active, 2 waiting, 1 paused, 1 cancelled, 1 in grace
		WARNING: n4 answered from an older ring than the cluster's newest: copies it holds of partitions moved since may be missing; do not stop it until it has caught up
		WARNING: the asked node could not confirm the cluster's newest ring (group: no quorum): members that all lag alike are not named behind; ask a node that reaches the Raft leader before stopping one
		WARNING: no answer from n3: the transfers it sends are not shown
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestTransfersNone(t *testing.T) {
	f := fixture()
	out := ok(t, cairnctl(t, serveTransfers(t, f), "transfers"))
	if want := "no transfers\n\n0 active, 0 waiting\n"; out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	f.Unreachable = []string{"n3", "n2"}
	out = ok(t, cairnctl(t, serveTransfers(t, f), "transfers"))
	if want := "no transfers\n\n0 active, 0 waiting\nWARNING: no answer from n2, n3: the transfers they send are not shown\n"; out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	f.Unreachable, f.Behind = nil, []string{"n4", "n1"}
	out = ok(t, cairnctl(t, serveTransfers(t, f), "transfers"))
	if want := "no transfers\n\n0 active, 0 waiting\nWARNING: n1, n4 answered from an older ring than the cluster's newest: " +
		"copies they hold of partitions moved since may be missing; do not stop them until they have caught up\n"; out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestTransfersJSON(t *testing.T) {
	f := transferFixture()
	out := ok(t, cairnctl(t, serveTransfers(t, f), "-o", "json", "transfers"))
	got := decodeJSON[adminapi.TransferList](t, out)
	if len(got.Transfers) != 7 || got.Active != 2 || got.Waiting != 2 || !reflect.DeepEqual(got.Unreachable, []string{"n3"}) ||
		!reflect.DeepEqual(got.Behind, []string{"n4"}) || got.RingUnconfirmed != "group: no quorum" {
		t.Fatalf("%+v", got)
	}
	if !strings.Contains(out, `"ring_unconfirmed": "group: no quorum"`) {
		t.Errorf("no ring_unconfirmed field in\n%s", out)
	}
	if s := got.Transfers[2]; s.ID != "ownership/0/n1/n4" || !reflect.DeepEqual(s.Status, f.TransferStatuses[0]) {
		t.Errorf("transfer 2: %+v, want %+v", s, f.TransferStatuses[0])
	}
	if !strings.Contains(out, `"id": "hinted/2/n4/n3",`) {
		t.Errorf("no id field in\n%s", out)
	}
}

func TestTransferControl(t *testing.T) {
	for _, tc := range []struct {
		action, id string
		want       handoff.State
		out        string
	}{
		{"pause", "ownership/0/n1/n4", handoff.Paused,
			"paused ownership/0/n1/n4; resume it with 'cairnctl transfer resume ownership/0/n1/n4'\n"},
		{"resume", "ownership/4/n2/n4", handoff.Waiting,
			"resumed ownership/4/n2/n4; follow it with 'cairnctl transfers'\n"},
		{"cancel", "hinted/2/n4/n3", handoff.Cancelled,
			"cancelled hinted/2/n4/n3; 'cairnctl transfer resume hinted/2/n4/n3' starts it over\n"},
	} {
		t.Run(tc.action, func(t *testing.T) {
			f := transferFixture()
			url := serveTransfers(t, f)
			if out := ok(t, cairnctl(t, url, "transfer", tc.action, tc.id)); out != tc.out {
				t.Errorf("stdout %q, want %q", out, tc.out)
			}
			i := slices.IndexFunc(f.TransferStatuses, func(s handoff.Status) bool { return s.ID.String() == tc.id })
			if got := f.TransferStatuses[i].State; got != tc.want {
				t.Errorf("state %s, want %s", got, tc.want)
			}
			// JSON mode: the API answers 204, so there is nothing to print.
			if out := ok(t, cairnctl(t, url, "-o", "json", "transfer", tc.action, tc.id)); out != "" {
				t.Errorf("json stdout %q, want nothing", out)
			}
		})
	}
}

func TestTransferErrors(t *testing.T) {
	f := transferFixture()
	url := serveTransfers(t, f)
	failed(t, cairnctl(t, url, "transfer", "pause", "ownership/0/n1/n9"), "handoff: no such transfer: ownership/0/n1/n9")
	failed(t, cairnctl(t, url, "transfer", "resume", "ownership/0/n1"),
		`handoff: malformed transfer id: "ownership/0/n1": want kind/partition/from/to`)
	failed(t, cairnctl(t, url, "transfer", "cancel", "moving/0/n1/n4"), "malformed transfer id")
	failed(t, cairnctl(t, url, "transfer", "pause"), "accepts 1 arg(s), received 0")
	failed(t, cairnctl(t, url, "transfer", "pause", "ownership/0/n1/n4", "ownership/1/n2/n4"), "accepts 1 arg(s), received 2")
	failed(t, cairnctl(t, url, "transfer", "frob", "ownership/0/n1/n4"), `unknown command "frob" for "cairnctl transfer"`)
	failed(t, cairnctl(t, url, "transfers", "extra"), `unknown command "extra" for "cairnctl transfers"`)
	if want := []string{"ControlTransfer"}; !reflect.DeepEqual(f.Calls, want) {
		t.Errorf("calls %v, want %v (bad arguments must not reach the node)", f.Calls, want)
	}

	f.FailNext(meta.ErrNoQuorum)
	failed(t, cairnctl(t, url, "transfers"), "meta: no quorum: node: unavailable")
}

// TestTransfersUnavailable runs the commands against a node whose admin
// API has no Transfers.
func TestTransfersUnavailable(t *testing.T) {
	url := serve(t, transferFixture())
	for _, args := range [][]string{
		{"transfers"},
		{"transfer", "pause", "ownership/0/n1/n4"},
		{"ring-status"},
		{"-o", "json", "ring-status"},
	} {
		failed(t, cairnctl(t, url, args...), "does not report transfers")
	}
}

func TestTransferHelp(t *testing.T) {
	url := serveTransfers(t, transferFixture())
	for _, args := range [][]string{
		{"transfers", "--help"},
		{"transfer", "--help"},
		{"transfer", "pause", "--help"},
		{"transfer", "resume", "--help"},
		{"transfer", "cancel", "--help"},
		{"ring-status", "--help"},
	} {
		out := ok(t, cairnctl(t, url, args...))
		if !strings.Contains(out, "Examples:\n  cairnctl "+args[0]) {
			t.Errorf("%v: no example in\n%s", args, out)
		}
	}
	if out := ok(t, cairnctl(t, url, "transfer")); !strings.Contains(out, "Available Commands:") {
		t.Errorf("transfer: stdout %q, want help", out)
	}
}

func TestHumanFormats(t *testing.T) {
	for _, tc := range []struct {
		n    float64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"}, {5 << 20, "5.0 MiB"},
		{3 << 30, "3.0 GiB"}, {1 << 60, "1.0 EiB"}, {1 << 70, "1024.0 EiB"},
	} {
		if got := humanBytes(tc.n); got != tc.want {
			t.Errorf("humanBytes(%v) = %q, want %q", tc.n, got, tc.want)
		}
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "-"}, {-time.Second, "-"}, {time.Millisecond, "<1s"}, {45 * time.Second, "45s"},
		{59*time.Second + 600*time.Millisecond, "1m00s"}, {330 * time.Second, "5m30s"},
		{2*time.Hour + 5*time.Minute + 10*time.Second, "2h05m"}, {30 * time.Hour, "30h00m"},
	} {
		if got := eta(tc.d); got != tc.want {
			t.Errorf("eta(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := oneLine("a\tb\n\nc  d", 60); got != "a b c d" {
		t.Errorf("oneLine: %q", got)
	}
	if got := oneLine("αβγδε", 4); got != "αβγ…" {
		t.Errorf("oneLine: %q", got)
	}
}
