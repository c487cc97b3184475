package main

import (
	"fmt"
	"net/http"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/spf13/cobra"
)

func newMemberStatusCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "member-status",
		Short: "Show each member's state and share of the ring, as riak-admin member-status",
		Long: "Show each member as riak-admin member-status does: its STATUS (valid, joining, leaving, exiting,\n" +
			"or down when an operator marked it so), its share of the ring now (RING) and, where pending\n" +
			"transfers change it, once they are done (PENDING; -- when they do not), then how many members\n" +
			"are in each state. Members that did not answer the node asked are named in a warning;\n" +
			"'cairnctl cluster status' shows their availability.\n" +
			"With -o json, the admin API's answer (GET /admin/cluster) as it is.",
		Example: "  cairnctl member-status\n" +
			"  cairnctl -o json member-status | jq -r '.members[] | \"\\(.id) \\(.state)\"'",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var st adminapi.ClusterStatus
			raw, err := a.do(cmd.Context(), http.MethodGet, "/admin/cluster", nil, &st)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return printJSON(a.stdout, raw)
			}
			if err := printMemberStatus(a, st); err != nil {
				return err
			}
			return warnNoAnswer(a, askAvailability(cmd.Context(), a), st.Members)
		},
	}
}

// memberStates are the states member-status counts, in riak-admin's
// order.
var memberStates = []meta.MemberState{meta.Valid, meta.Leaving, meta.Exiting, meta.Joining, meta.Down}

func printMemberStatus(a *app, st adminapi.ClusterStatus) error {
	w := a.stdout
	owners := ownerShares(st.Ring)
	counts := make(map[meta.MemberState]int)
	t := newTable(w, "STATUS", "RING", "PENDING", "NODE")
	for _, m := range st.Members {
		o := owners[m.ID]
		t.row(m.State, pct(o.Pct), pendingShare(o), m.ID)
		counts[m.State]++
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for i, s := range memberStates {
		if i > 0 {
			fmt.Fprint(w, " / ")
		}
		fmt.Fprintf(w, "%s:%d", capitalise(string(s)), counts[s])
	}
	fmt.Fprintln(w)
	if st.Ring == nil {
		_, err := fmt.Fprintln(w, "the ring is not initialised yet: no member owns a partition")
		return err
	}
	return nil
}

// capitalise upper-cases the first letter of an ASCII word.
func capitalise(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
