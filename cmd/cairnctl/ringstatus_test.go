package main

import (
	"reflect"
	"testing"

	"github.com/cairnkv/cairn/meta/adminapi"
)

func TestRingStatus(t *testing.T) {
	out := ok(t, cairnctl(t, serveTransfers(t, transferFixture()), "ring-status"))
	want := lines(`
		ring epoch 5: 8 partitions, 1 settled, 7 moving

		PARTITION  OWNER  NEXT OWNER  WAITING ON
		0          n1     n4          transfer running 42%, eta 1m35s
		1          n2     n4          transfer waiting (concurrency limit)
		3          n1     n4          retrying after 3 failed attempts: rpc: dial tcp 10.0.0.4:8099: connection refused
		4          n2     n4          transfer paused by an operator
		5          n3     n4          no answer from n3 (unreachable)
		6          n1     n4          no transfer reported by n1 (down or not started)
		7          n2     n3          transfer cancelled by an operator

		WARNING: no answer from n3: the transfers it sends are not shown
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestRingStatusAll(t *testing.T) {
	f := fixture()
	f.TransferStatuses = transferFixture().TransferStatuses[:1]
	f.RingState.Pending[0].Partition, f.RingState.Pending[0].From, f.RingState.Pending[0].To = 0, "n1", "n4"
	out := ok(t, cairnctl(t, serveTransfers(t, f), "ring-status", "--all"))
	want := lines(`
		ring epoch 5: 8 partitions, 7 settled, 1 moving

		PARTITION  OWNER  NEXT OWNER  WAITING ON
		0          n1     n4          transfer running 42%, eta 1m35s
		1          n2     -           -
		2          n3     -           -
		3          n1     -           -
		4          n2     -           -
		5          n3     -           -
		6          n1     -           -
		7          n2     -           -
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestRingStatusSettled(t *testing.T) {
	f := fixture()
	f.RingState.Pending = nil
	out := ok(t, cairnctl(t, serveTransfers(t, f), "ring-status"))
	if want := "ring epoch 5: 8 partitions, 8 settled, 0 moving\n"; out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestRingStatusJSON(t *testing.T) {
	out := ok(t, cairnctl(t, serveTransfers(t, transferFixture()), "-o", "json", "ring-status"))
	got := decodeJSON[adminapi.RingStatus](t, out)
	if got.Epoch != 5 || got.Settled != 1 || got.Moving != 7 || len(got.Partitions) != 8 ||
		!reflect.DeepEqual(got.Unreachable, []string{"n3"}) {
		t.Fatalf("%+v", got)
	}
	p0, p2 := got.Partitions[0], got.Partitions[2]
	if p0.NextOwner != "n4" || p0.Transfer == nil || p0.Transfer.ID != "ownership/0/n1/n4" || p0.WaitingOn != "transfer running 42%, eta 1m35s" {
		t.Errorf("partition 0: %+v", p0)
	}
	if p2.Owner != "n3" || p2.NextOwner != "" || p2.Transfer != nil || p2.WaitingOn != "" {
		t.Errorf("partition 2: %+v", p2)
	}
}

func TestRingStatusErrors(t *testing.T) {
	f := transferFixture()
	f.RingState = nil
	url := serveTransfers(t, f)
	failed(t, cairnctl(t, url, "ring-status"), "meta: ring not initialised")
	failed(t, cairnctl(t, url, "ring-status", "extra"), `unknown command "extra" for "cairnctl ring-status"`)
	failed(t, cairnctl(t, url, "ring-status", "--every"), "unknown flag: --every")
}
