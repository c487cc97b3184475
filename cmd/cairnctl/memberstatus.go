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
			"or down when the node's gossip reports it down or an operator marked it so), its share of the\n" +
			"ring now (RING) and, where pending transfers change it, once they are done (PENDING; -- when\n" +
			"they do not), then how many members are in each status. 'cairnctl cluster status' shows the\n" +
			"state of a member that is down. A node too old to report its gossip's view is asked which\n" +
			"members did not answer it instead; they are named in a warning.\n" +
			"With -o json, the admin API's answer (GET /admin/cluster) as it is: .down lists the members\n" +
			"down when .liveness is \"gossip\".",
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
			l := askAvailability(cmd.Context(), a, st)
			if err := printMemberStatus(a, st, l); err != nil {
				return err
			}
			return warnNoAnswer(a, l, st.Members)
		},
	}
}

// memberStates are the states member-status counts, in riak-admin's
// order.
var memberStates = []meta.MemberState{meta.Valid, meta.Leaving, meta.Exiting, meta.Joining, meta.Down}

func printMemberStatus(a *app, st adminapi.ClusterStatus, l liveness) error {
	w := a.stdout
	owners := ownerShares(st.Ring)
	counts := make(map[meta.MemberState]int)
	t := newTable(w, "STATUS", "RING", "PENDING", "NODE")
	for _, m := range st.Members {
		o := owners[m.ID]
		s := l.status(m)
		t.row(s, pct(o.Pct), pendingShare(o), m.ID)
		counts[s]++
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
