package main

import (
	"fmt"
	"net/http"

	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/spf13/cobra"
)

func newRingStatusCommand(a *app) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "ring-status",
		Short: "Show the partitions moving to a new owner and what each move is waiting on",
		Long: "Show each partition of the committed ring that has not reached its next owner yet: its owner,\n" +
			"its next owner, and what the move is waiting on (the transfer's progress, the concurrency\n" +
			"limit, an operator's pause, the error it is retrying after, or a sender that reports nothing).\n" +
			"--all shows the settled partitions too.\n" +
			"With -o json, the admin API's answer (GET /admin/ring-status), every partition included.",
		Example: "  cairnctl ring-status\n  cairnctl ring-status --all\n  cairnctl -o json ring-status",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var rs adminapi.RingStatus
			raw, err := a.do(cmd.Context(), http.MethodGet, "/admin/ring-status", nil, &rs)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return printJSON(a.stdout, raw)
			}
			return printRingStatus(a, rs, all)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "show every partition, settled ones too")
	return cmd
}

func printRingStatus(a *app, rs adminapi.RingStatus, all bool) error {
	w := a.stdout
	fmt.Fprintf(w, "ring epoch %d: %s, %d settled, %d moving\n",
		rs.Epoch, count(len(rs.Partitions), "partition"), rs.Settled, rs.Moving)
	if rs.Moving > 0 || all {
		fmt.Fprintln(w)
		t := newTable(w, "PARTITION", "OWNER", "NEXT OWNER", "WAITING ON")
		for _, p := range rs.Partitions {
			if p.NextOwner == "" && !all {
				continue
			}
			t.row(p.Partition, p.Owner, orDash(p.NextOwner), orDash(oneLine(p.WaitingOn, 120)))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if len(rs.Unreachable) > 0 {
		fmt.Fprintln(w)
	}
	return warnUnreachable(w, rs.Unreachable)
}
