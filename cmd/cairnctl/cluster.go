package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/spf13/cobra"
)

func newClusterCommand(a *app) *cobra.Command {
	return group("cluster", "Show the cluster and stage, plan and commit ring changes",
		"  cairnctl cluster status\n  cairnctl cluster join n4\n  cairnctl cluster plan\n  cairnctl cluster commit",
		&cobra.Command{
			Use:   "status",
			Short: "Show members, their availability and share of the ring, the Raft leader, the staged changes",
			Long: "Show each member: its state, whether it is up (AVAIL: up, or down when the node's gossip reports\n" +
				"it dead or gone; \"?\" when the node cannot tell), its share of the ring now and, where pending\n" +
				"transfers change it, once they are done; and its HTTP address. \"(C)\" marks the Raft leader, which\n" +
				"commits the cluster's changes, as riak-admin marks its claimant. Then the staged changes.\n" +
				"A node too old to report the leader and its gossip's view is asked for them as before: AVAIL\n" +
				"is then down for a member that did not answer that node.\n" +
				"With -o json, the admin API's answer (GET /admin/cluster) as it is: .leader is the Raft leader\n" +
				"(\"\" for none), .down the members down when .liveness is \"gossip\".",
			Example: "  cairnctl cluster status\n  cairnctl -o json cluster status | jq -r '.members[] | select(.state == \"valid\") | .id'",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				var st adminapi.ClusterStatus
				raw, err := a.do(cmd.Context(), http.MethodGet, "/admin/cluster", nil, &st)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return printJSON(a.stdout, raw)
				}
				return printClusterStatus(a, st, askLiveness(cmd.Context(), a, st))
			},
		},
		stageCommand(a, meta.ChangeJoin, "join NODE", "Stage the join of a node (joining) to the ring"),
		stageCommand(a, meta.ChangeLeave, "leave NODE", "Stage a node's leave: it hands off its partitions; stop it once 'cairnctl transfers' lists nothing it sends"),
		stageCommand(a, meta.ChangeForceRemove, "force-remove NODE",
			"Stage a node's removal without handoff (its replicas are lost; for a node that is gone)"),
		stageCommand(a, meta.ChangeReplace, "replace NODE NEW", "Stage the handoff of NODE's partitions to NEW (joining)"),
		stageCommand(a, meta.ChangeForceReplace, "force-replace NODE NEW",
			"Stage NEW taking NODE's partitions without handoff (for a node that is gone)"),
		&cobra.Command{
			Use:     "plan",
			Short:   "Show what committing the staged changes would do",
			Example: "  cairnctl cluster plan\n  cairnctl -o json cluster plan | jq .warnings",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				var p meta.Plan
				raw, err := a.do(cmd.Context(), http.MethodGet, "/admin/cluster/plan", nil, &p)
				if err != nil {
					return nothingStaged(err, "plan")
				}
				if a.jsonOutput() {
					return printJSON(a.stdout, raw)
				}
				if err := printPlan(a, &p); err != nil {
					return err
				}
				_, err = fmt.Fprintln(a.stdout, "\nrun 'cairnctl cluster commit' to apply these changes, 'cairnctl cluster clear' to drop them")
				return err
			},
		},
		&cobra.Command{
			Use:     "commit",
			Short:   "Commit the staged changes",
			Example: "  cairnctl cluster commit",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				var p meta.Plan
				raw, err := a.do(cmd.Context(), http.MethodPost, "/admin/cluster/commit", nil, &p)
				if err != nil {
					return nothingStaged(err, "commit")
				}
				if a.jsonOutput() {
					return printJSON(a.stdout, raw)
				}
				moving := 0
				for _, t := range p.Transfers {
					moving += t.Partitions
				}
				_, err = fmt.Fprintf(a.stdout, "cluster changes committed (planned at ring epoch %d): %s\n"+
					"%s to transfer; follow them with 'cairnctl ring'\n",
					p.Epoch, describeChanges(p.Changes), count(moving, "partition"))
				return err
			},
		},
		&cobra.Command{
			Use:     "clear",
			Short:   "Drop the staged changes",
			Example: "  cairnctl cluster clear",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				raw, err := a.do(cmd.Context(), http.MethodPost, "/admin/cluster/clear", nil, nil)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return printJSON(a.stdout, raw)
				}
				_, err = fmt.Fprintln(a.stdout, "cleared the staged changes")
				return err
			},
		},
	)
}

// nothingStaged adds to the server's "no staged changes" how to stage
// one; other errors pass as they are.
func nothingStaged(err error, what string) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusConflict && strings.HasPrefix(ae.msg, meta.ErrNothingStaged.Error()) {
		return fmt.Errorf("%w: nothing to %s; stage a change first with 'cairnctl cluster join|leave|force-remove|replace|force-replace'", err, what)
	}
	return err
}

// stageCommand is one of the commands that stage a change: NODE, and NEW
// for the replacements.
func stageCommand(a *app, kind meta.ChangeKind, use, short string) *cobra.Command {
	nargs := 1
	if kind == meta.ChangeReplace || kind == meta.ChangeForceReplace {
		nargs = 2
	}
	name, _, _ := strings.Cut(use, " ")
	example := "  cairnctl cluster " + name + " n4"
	if nargs == 2 {
		example = "  cairnctl cluster " + name + " n3 n5"
	}
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.ExactArgs(nargs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := meta.Change{Kind: kind, Node: args[0]}
			if nargs == 2 {
				c.Target = args[1]
			}
			raw, err := a.do(cmd.Context(), http.MethodPost, "/admin/cluster/stage", c, nil)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return printJSON(a.stdout, raw)
			}
			_, err = fmt.Fprintf(a.stdout, "staged: %s; run 'cairnctl cluster plan' then 'cairnctl cluster commit'\n", describeChange(c))
			return err
		},
	}
}

// describeChange says a change in the words of the command that staged it.
func describeChange(c meta.Change) string {
	if c.Target != "" {
		return fmt.Sprintf("%s %s with %s", c.Kind, c.Node, c.Target)
	}
	return fmt.Sprintf("%s %s", c.Kind, c.Node)
}

func describeChanges(cs []meta.Change) string {
	if len(cs) == 0 {
		return "none"
	}
	ds := make([]string, len(cs))
	for i, c := range cs {
		ds[i] = describeChange(c)
	}
	return strings.Join(ds, ", ")
}

func printClusterStatus(a *app, st adminapi.ClusterStatus, l liveness) error {
	w := a.stdout
	if st.Ring == nil {
		fmt.Fprintln(w, "ring: not initialised")
	} else {
		r := st.Ring
		fmt.Fprintf(w, "ring: epoch %d, %s, target n_val %d, %s\n",
			r.Epoch, count(r.Size, "partition"), r.TargetN, count(r.Pending, "pending transfer"))
	}
	fmt.Fprintln(w)
	owners := ownerShares(st.Ring)
	t := newTable(w, "NODE", "STATE", "AVAIL", "RING", "PENDING", "HTTP")
	for _, m := range st.Members {
		o := owners[m.ID]
		id := m.ID
		if m.ID == l.leader {
			id = "(C) " + id
		}
		t.row(id, m.State, l.avail(m.ID), pct(o.Pct), pendingShare(o), orDash(m.HTTPAddr))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if l.leader != "" {
		fmt.Fprintln(w, "(C): the Raft leader, which commits the cluster's changes (riak-admin's claimant)")
	}
	for _, note := range l.notes {
		fmt.Fprintln(w, note)
	}
	fmt.Fprintln(w)
	if len(st.Staged) == 0 {
		_, err := fmt.Fprintln(w, "no staged changes")
		return err
	}
	fmt.Fprintln(w, "staged changes (see 'cairnctl cluster plan'):")
	return printChanges(a, st.Staged)
}

func printChanges(a *app, cs []meta.Change) error {
	t := newTable(a.stdout, "  ACTION", "NODE", "NEW")
	for _, c := range cs {
		t.row("  "+string(c.Kind), c.Node, orDash(c.Target))
	}
	return t.flush()
}

// printPlan prints a plan as riak-admin cluster plan does: the changes,
// each node's share of the ring now and after, the transfers, the
// warnings.
func printPlan(a *app, p *meta.Plan) error {
	w := a.stdout
	fmt.Fprintf(w, "staged changes (ring epoch %d):\n", p.Epoch)
	if err := printChanges(a, p.Changes); err != nil {
		return err
	}
	fmt.Fprintln(w)
	t := newTable(w, "NODE", "STATE", "RING", "NEXT", "PENDING")
	for _, n := range p.Nodes {
		t.row(n.ID, n.State, pct(n.RingPct), pct(n.NextPct), pct(n.PendingPct))
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	total := 0
	for _, x := range p.Transfers {
		total += x.Partitions
	}
	if total == 0 {
		fmt.Fprintln(w, "no partition transfers")
	} else {
		fmt.Fprintf(w, "transfers resulting from these changes: %d\n", total)
		t = newTable(w, "  FROM", "TO", "PARTITIONS")
		for _, x := range p.Transfers {
			t.row("  "+x.From, x.To, x.Partitions)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	for _, warn := range p.Warnings {
		fmt.Fprintln(w, "WARNING:", warn)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
