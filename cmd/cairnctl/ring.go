package main

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/spf13/cobra"
)

func newRingCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ring",
		Short: "Show the ring: each node's partitions, the epoch, the pending transfers",
		Long: "Show the committed ring: how many partitions each node serves now and once the pending\n" +
			"transfers are done, and the transfers still pending by pair of nodes.\n" +
			"'cairnctl ring show' shows every partition: its preference list and a map of the ring.\n" +
			"With -o json, the whole ring: the owner of every partition and every pending transfer.",
		Example: "  cairnctl ring\n  cairnctl ring show\n  cairnctl -o json ring | jq '.pending | length'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var r meta.RingState
			raw, err := a.do(cmd.Context(), http.MethodGet, "/admin/ring", nil, &r)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return printJSON(a.stdout, raw)
			}
			return printRing(a, &r)
		},
	}
	cmd.AddCommand(newRingShowCommand(a))
	return cmd
}

func printRing(a *app, r *meta.RingState) error {
	w := a.stdout
	s := adminapi.SummarizeRing(r, nil)
	fmt.Fprintf(w, "ring epoch %d, %s, target n_val %d\n\n", s.Epoch, count(s.Size, "partition"), s.TargetN)
	t := newTable(w, "NODE", "PARTITIONS", "RING", "NEXT", "NEXT RING")
	for _, o := range s.Owners {
		t.row(o.Node, o.Partitions, pct(o.Pct), o.Next, pct(o.NextPct))
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if len(r.Pending) == 0 {
		_, err := fmt.Fprintln(w, "no pending transfers")
		return err
	}
	type pair struct{ from, to string }
	counts := make(map[pair]int)
	for _, x := range r.Pending {
		counts[pair{x.From, x.To}]++
	}
	pairs := make([]pair, 0, len(counts))
	for p := range counts {
		pairs = append(pairs, p)
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].from != pairs[j].from {
			return pairs[i].from < pairs[j].from
		}
		return pairs[i].to < pairs[j].to
	})
	fmt.Fprintf(w, "pending transfers: %d\n", len(r.Pending))
	t = newTable(w, "  FROM", "TO", "PARTITIONS")
	for _, p := range pairs {
		t.row("  "+p.from, p.to, counts[p])
	}
	return t.flush()
}
