package main

import (
	"fmt"
	"net/http"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/spf13/cobra"
)

func newRaftCommand(a *app) *cobra.Command {
	return group("raft", "Inspect and manage the Raft group that holds the cluster's metadata",
		"  cairnctl raft status\n  cairnctl raft remove-peer n3",
		&cobra.Command{
			Use:     "status",
			Short:   "Show the Raft group: leader, term, indexes and servers",
			Example: "  cairnctl raft status\n  cairnctl -o json raft status | jq -r .leader",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				var st meta.RaftStatus
				raw, err := a.do(cmd.Context(), http.MethodGet, "/admin/raft", nil, &st)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return printJSON(a.stdout, raw)
				}
				return printRaftStatus(a, st)
			},
		},
		&cobra.Command{
			Use:     "remove-peer ID",
			Short:   "Remove a server from the Raft configuration (one that is gone for good)",
			Example: "  cairnctl raft remove-peer n3",
			Args:    cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				raw, err := a.do(cmd.Context(), http.MethodPost, "/admin/raft/remove-peer",
					adminapi.RemovePeerRequest{ID: args[0]}, nil)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return printJSON(a.stdout, raw)
				}
				_, err = fmt.Fprintf(a.stdout, "removed %s from the raft configuration\n", args[0])
				return err
			},
		},
	)
}

func printRaftStatus(a *app, st meta.RaftStatus) error {
	leader := st.Leader
	switch {
	case leader == "":
		leader = "none (no quorum?)"
	case st.LeaderAddr != "":
		leader += " (" + st.LeaderAddr + ")"
	}
	t := newTable(a.stdout)
	t.row("leader:", leader)
	t.row("this node:", st.ID+" ("+st.State+")")
	t.row("term:", st.Term)
	t.row("last index:", st.LastIndex)
	t.row("commit index:", st.CommitIndex)
	t.row("applied index:", st.AppliedIndex)
	t.row("voters:", fmt.Sprintf("%d (target %d)", st.Voters, st.TargetVoters))
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout)
	// Only the leader tracks its followers' health.
	isLeader := st.State == "Leader"
	t = newTable(a.stdout, "ID", "ADDRESS", "SUFFRAGE", "LEADER", "HEALTHY")
	for _, s := range st.Servers {
		healthy := "-"
		if isLeader {
			healthy = yesNo(s.Healthy)
		}
		leader := ""
		if s.Leader {
			leader = "*"
		}
		t.row(s.ID, s.Address, s.Suffrage, leader, healthy)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if !isLeader {
		_, err := fmt.Fprintln(a.stdout, "\nhealth is known only to the leader: ask it (--node) for the HEALTHY column")
		return err
	}
	return nil
}
