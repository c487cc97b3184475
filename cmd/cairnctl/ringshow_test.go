package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/meta"
)

func TestRingShow(t *testing.T) {
	f := fixture()
	f.RingState.Pending = append(f.RingState.Pending,
		meta.Transfer{Partition: 0, From: "n1", To: "n4"}, meta.Transfer{Partition: 3, From: "n1", To: "n4"})
	golden(t, "ring-show.golden", ok(t, cairnctl(t, serve(t, f), "ring", "show")))
}

func TestRingShowN(t *testing.T) {
	f := fixture()
	f.RingState.Pending = nil
	url := serve(t, f)
	out := ok(t, cairnctl(t, url, "ring", "show", "--n", "2"))
	want := lines(`
		ring epoch 5, 8 partitions, target n_val 3, 0 pending transfers

		0  ABCABCAB

		A=n1  B=n2  C=n3

		PARTITION  OWNER  NEXT OWNER  PREFERENCE LIST (N=2)
		0          n1     -           n1, n2
		1          n2     -           n2, n3
		2          n3     -           n3, n1
		3          n1     -           n1, n2
		4          n2     -           n2, n3
		5          n3     -           n3, n1
		6          n1     -           n1, n2
		7          n2     -           n2, n1
		`)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if out2 := ok(t, cairnctl(t, url, "ring", "show", "-n", "2")); out2 != out {
		t.Errorf("-n 2 differs from --n 2:\n%s", out2)
	}
	failed(t, cairnctl(t, url, "ring", "show", "--n", "0"), "--n 0: a preference list has at least 1 partition")
	failed(t, cairnctl(t, url, "ring", "show", "--n", "9"), "--n 9: the ring has only 8 partitions")
	failed(t, cairnctl(t, url, "ring", "show", "extra"), `unknown command "extra" for "cairnctl ring show"`)
}

// TestRingShowMap checks the map of a larger ring: 64 partitions to a
// line, each line led by its first partition, lower case where moving.
func TestRingShowMap(t *testing.T) {
	f := fixture()
	owners := make([]string, 128)
	for p := range owners {
		owners[p] = fmt.Sprintf("node-%d", p%4)
	}
	f.RingState = &meta.RingState{Size: 128, TargetN: 3, Epoch: 2, Owners: owners,
		Pending: []meta.Transfer{{Partition: 1, From: "node-1", To: "node-4"}, {Partition: 127, From: "node-3", To: "node-4"}}}
	out := ok(t, cairnctl(t, serve(t, f), "ring", "show"))
	abcd := strings.Repeat("ABCD", 16)
	want := "ring epoch 2, 128 partitions, target n_val 3, 2 pending transfers\n\n" +
		"  0  Ab" + abcd[2:] + "\n" +
		" 64  " + abcd[:63] + "d\n\n" +
		"A=node-0  B=node-1  C=node-2  D=node-3\n" +
		"lower case: moving to its next owner (progress: 'cairnctl ring-status')\n\n" +
		"PARTITION  OWNER   NEXT OWNER  PREFERENCE LIST (N=3)\n" +
		"0          node-0  -           node-0, node-1, node-2\n" +
		"1          node-1  node-4      node-1, node-2, node-3\n"
	if !strings.HasPrefix(out, want) {
		t.Errorf("got\n%s\nwant it to start\n%s", out, want)
	}
	if !strings.HasSuffix(out, "\n127        node-3  node-4      node-3, node-0, node-1\n") {
		t.Errorf("last row:\n%s", out[strings.LastIndex(out[:len(out)-1], "\n")+1:])
	}
}

func TestRingSymbols(t *testing.T) {
	var nodes []string
	for i := 30; i > 0; i-- {
		nodes = append(nodes, fmt.Sprintf("n%02d", i))
	}
	s := ownerSymbols(nodes)
	for _, tc := range []struct {
		node   string
		moving bool
		want   byte
	}{
		{"n01", false, 'A'}, {"n01", true, 'a'}, {"n26", false, 'Z'}, {"n26", true, 'z'},
		{"n27", false, '#'}, {"n30", true, '*'},
	} {
		if got := s.of(tc.node, tc.moving); got != tc.want {
			t.Errorf("of(%s, %v) = %c, want %c", tc.node, tc.moving, got, tc.want)
		}
	}
	legend := s.legend()
	for _, l := range legend {
		if len(l) > mapWidth {
			t.Errorf("legend line longer than %d: %q", mapWidth, l)
		}
	}
	all := strings.Join(legend, "\n")
	if !strings.HasPrefix(all, "A=n01  B=n02") || !strings.HasSuffix(all, "#=n27,n28,n29,n30 (* when moving)") {
		t.Errorf("legend:\n%s", all)
	}
}

func TestRingShowErrors(t *testing.T) {
	f := fixture()
	f.RingState = nil
	failed(t, cairnctl(t, serve(t, f), "ring", "show"), "meta: ring not initialised")
	failed(t, cairnctl(t, "127.0.0.1:1", "ring", "show"), "cannot connect to the cairn node at http://127.0.0.1:1", "connection refused")
}
