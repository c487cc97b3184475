package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/spf13/cobra"
)

func newAAEStatusCommand(a *app) *cobra.Command {
	var exchanges bool
	cmd := &cobra.Command{
		Use:   "aae-status",
		Short: "Show a node's active anti-entropy: its state, totals, and each partition's trees and exchanges",
		Long: "Show the active anti-entropy of the node --node names (each node runs its own): whether it is\n" +
			"enabled, its window (when exchanges may start, UTC), the exchanges running, and totals since the\n" +
			"node started. Then, for each of the node's partitions: when its trees were last built (\"never\":\n" +
			"exchanges wait for them), the keys they hold, the oldest of its last exchanges with the other\n" +
			"replicas, the keys its exchanges repaired (last, mean and max per exchange), and the last error.\n" +
			"--exchanges lists every exchange pair instead: the partition, the tree (primary partition/n_val\n" +
			"of the keys it covers), the peer (node/partition), when they last exchanged, what that repaired.\n" +
			"Times are relative to the node's clock, not this machine's.\n" +
			"With -o json, the admin API's answer (GET /admin/aae) as it is.",
		Example: "  cairnctl aae-status\n" +
			"  cairnctl --node 10.0.0.2:8098 aae-status --exchanges\n" +
			"  cairnctl -o json aae-status | jq '.partitions[] | {partition, repaired: .repaired.total}'",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var st antientropy.Status
			raw, err := a.do(cmd.Context(), http.MethodGet, "/admin/aae", nil, &st)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return printJSON(a.stdout, raw)
			}
			if exchanges {
				return printAAEExchanges(a, st)
			}
			return printAAEStatus(a, st)
		},
	}
	cmd.Flags().BoolVar(&exchanges, "exchanges", false, "list every exchange pair instead of one row per partition")
	return cmd
}

// printAAEHeader prints the node's state and totals.
func printAAEHeader(a *app, st antientropy.Status) {
	fmt.Fprintf(a.stdout, "node %s: anti-entropy %s, %s running\n", orDash(st.Node), aaeState(st), count(st.Running, "exchange"))
	fmt.Fprintf(a.stdout, "since start: %s, %d keys compared, %d keys repaired, %s exchanged\n",
		count(int(st.Exchanges), "exchange"), st.KeysCompared, st.KeysRepaired, humanBytes(float64(st.Bytes)))
}

// aaeState says whether anti-entropy runs and when: "enabled, window
// always", "disabled, window 02:00-06:00 UTC".
func aaeState(st antientropy.Status) string {
	state := "disabled"
	if st.Enabled {
		state = "enabled"
	}
	window := st.Window
	if window != "always" && window != "" {
		window += " UTC"
	}
	return state + ", window " + orDash(window)
}

func printAAEStatus(a *app, st antientropy.Status) error {
	w := a.stdout
	printAAEHeader(a, st)
	fmt.Fprintln(w)
	if len(st.Partitions) == 0 {
		_, err := fmt.Fprintln(w, "no partitions on this node")
		return err
	}
	t := newTable(w, "PARTITION", "TREE BUILT", "KEYS", "EXCHANGES", "REPAIRED LAST/MEAN/MAX", "LAST ERROR")
	for _, p := range st.Partitions {
		repaired := "-"
		if p.Repaired.Exchanges > 0 {
			repaired = fmt.Sprintf("%d/%.1f/%d", p.Repaired.Last, p.Repaired.Mean, p.Repaired.Max)
		}
		t.row(p.Partition, ago(st.Now, p.TreeBuilt), p.Keys, exchangesSummary(st.Now, p.Exchanges), repaired,
			orDash(oneLine(lastError(p.Exchanges), 60)))
	}
	return t.flush()
}

// exchangesSummary is a partition's exchanges in a cell: how many peers,
// and how long ago the one it has waited on longest was.
func exchangesSummary(now time.Time, ex []antientropy.PeerStatus) string {
	if len(ex) == 0 {
		return "-"
	}
	type peer struct {
		node      string
		partition int
	}
	peers := make(map[peer]bool)
	oldest := ex[0].Last
	for _, e := range ex {
		peers[peer{e.Peer, e.PeerPartition}] = true
		if e.Last.Before(oldest) {
			oldest = e.Last
		}
	}
	return fmt.Sprintf("%s, oldest %s", count(len(peers), "peer"), ago(now, oldest))
}

// lastError is the first failing exchange's error, with its peer, and how
// many more fail.
func lastError(ex []antientropy.PeerStatus) string {
	msg, failing := "", 0
	for _, e := range ex {
		if e.LastError == "" {
			continue
		}
		if failing == 0 {
			msg = fmt.Sprintf("%s/%d: %s", e.Peer, e.PeerPartition, e.LastError)
		}
		failing++
	}
	if failing > 1 {
		msg = fmt.Sprintf("(%d failing) %s", failing, msg)
	}
	return msg
}

func printAAEExchanges(a *app, st antientropy.Status) error {
	w := a.stdout
	printAAEHeader(a, st)
	fmt.Fprintln(w)
	n := 0
	for _, p := range st.Partitions {
		n += len(p.Exchanges)
	}
	if n == 0 {
		_, err := fmt.Fprintln(w, "no exchanges")
		return err
	}
	t := newTable(w, "PARTITION", "TREE", "PEER", "LAST EXCHANGE", "REPAIRED", "LAST ERROR")
	for _, p := range st.Partitions {
		for _, e := range p.Exchanges {
			repaired := "-"
			if !e.Last.IsZero() {
				repaired = fmt.Sprint(e.LastRepaired)
			}
			t.row(p.Partition, fmt.Sprintf("%d/%d", e.Primary, e.N), fmt.Sprintf("%s/%d", e.Peer, e.PeerPartition),
				ago(st.Now, e.Last), repaired, orDash(oneLine(e.LastError, 60)))
		}
	}
	return t.flush()
}

// ago says how long before now t was, in its largest unit: "12s ago",
// "3m ago", "5h ago", "3d ago"; "never" for a zero t.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "<1s ago"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", d/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", d/time.Minute)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", d/time.Hour)
	}
	return fmt.Sprintf("%dd ago", d/(24*time.Hour))
}
