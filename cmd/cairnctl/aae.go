package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/spf13/cobra"
)

func newAAECommand(a *app) *cobra.Command {
	on, off := true, false
	cmd := group("aae", "Enable or disable active anti-entropy, or set when it runs",
		"  cairnctl aae disable --all\n  cairnctl --node 10.0.0.2:8098 aae window 01:00-05:00\n  cairnctl aae enable --all",
		aaeControlCommand(a, "enable", cobra.NoArgs, "Let a node start anti-entropy exchanges (within its window)",
			"Enable active anti-entropy on the node: it starts exchanges again, within its window.",
			func([]string) (antientropy.Control, error) { return antientropy.Control{Enabled: &on}, nil }),
		aaeControlCommand(a, "disable", cobra.NoArgs, "Stop a node starting anti-entropy exchanges",
			"Disable active anti-entropy on the node: it starts no more exchanges and refuses its peers'.",
			func([]string) (antientropy.Control, error) { return antientropy.Control{Enabled: &off}, nil }),
		aaeControlCommand(a, "window always|HH:MM-HH:MM", cobra.ExactArgs(1),
			"Set when a node may start anti-entropy exchanges",
			"Set the node's anti-entropy window, when exchanges may start: \"always\", or HH:MM-HH:MM in UTC.",
			func(args []string) (antientropy.Control, error) {
				w, err := antientropy.ParseWindow(args[0])
				if err != nil {
					return antientropy.Control{}, err
				}
				s := w.String()
				return antientropy.Control{Window: &s}, nil
			}),
	)
	cmd.Long = "Enable or disable active anti-entropy, or set the window it runs in. Each node runs its own and\n" +
		"keeps these settings across restarts: a command changes the node --node names, or every member\n" +
		"of the cluster with --all. See 'cairnctl aae-status'."
	return cmd
}

// aaeControlCommand is one of the commands that POST a Control. use is
// the command's name and arguments; control makes the Control of the
// arguments, checking them before any request.
func aaeControlCommand(a *app, use string, args cobra.PositionalArgs, short, long string,
	control func(args []string) (antientropy.Control, error)) *cobra.Command {
	name, _, _ := strings.Cut(use, " ")
	example := "  cairnctl aae " + name
	if name == "window" {
		example = "  cairnctl aae window 02:00-06:00 --all\n  cairnctl aae window always"
	}
	var all bool
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: long + "\nIt changes the node --node names, and with --all every member of the cluster (as\n" +
			"'cairnctl cluster status' lists them), reporting each one's result: the command fails if any does.\n" +
			"With -o json, the node's new status (POST /admin/aae); with --all, a list of\n" +
			"{\"node\",\"http_addr\",\"status\"} or {…,\"error\"}, one per member.",
		Example: example,
		Args:    args,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := control(args)
			if err != nil {
				return err
			}
			if all {
				return controlAAEAll(cmd.Context(), a, "aae "+name, c)
			}
			var st antientropy.Status
			raw, err := a.do(cmd.Context(), http.MethodPost, "/admin/aae", c, &st)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return printJSON(a.stdout, raw)
			}
			_, err = fmt.Fprintf(a.stdout, "%s: anti-entropy %s\n", orDash(st.Node), aaeState(st))
			return err
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "apply to every member of the cluster")
	return cmd
}

// memberResult is what --all reports of one member.
type memberResult struct {
	Node     string              `json:"node"`
	HTTPAddr string              `json:"http_addr"`
	Status   *antientropy.Status `json:"status,omitempty"`
	Error    string              `json:"error,omitempty"`
}

// controlAAEAll applies c on every member at once and reports each one's
// result. It fails, once every member has answered or timed out, if any
// did not apply it.
func controlAAEAll(ctx context.Context, a *app, what string, c antientropy.Control) error {
	var cs adminapi.ClusterStatus
	if _, err := a.do(ctx, http.MethodGet, "/admin/cluster", nil, &cs); err != nil {
		return err
	}
	if len(cs.Members) == 0 {
		return errors.New("the cluster has no members")
	}
	results := make([]memberResult, len(cs.Members))
	var wg sync.WaitGroup
	for i, m := range cs.Members {
		results[i] = memberResult{Node: m.ID, HTTPAddr: m.HTTPAddr}
		wg.Go(func() {
			st, err := controlAAEOn(ctx, a, m.HTTPAddr, c)
			if err != nil {
				results[i].Error = err.Error()
				return
			}
			results[i].Status = &st
		})
	}
	wg.Wait()

	var failed []string
	for _, r := range results {
		if r.Error != "" {
			failed = append(failed, r.Node)
		}
	}
	if a.jsonOutput() {
		b, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(a.stdout, "%s\n", b); err != nil {
			return err
		}
	} else {
		t := newTable(a.stdout, "NODE", "RESULT")
		for _, r := range results {
			result := "error: " + oneLine(r.Error, 200)
			if r.Status != nil {
				result = "anti-entropy " + aaeState(*r.Status)
			}
			t.row(r.Node, result)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s failed on %d of %s: %s", what, len(failed), count(len(results), "member"), strings.Join(failed, ", "))
	}
	return nil
}

// controlAAEOn posts c to the admin API at a member's HTTP address. The
// address takes the scheme of --node when it has none.
func controlAAEOn(ctx context.Context, a *app, addr string, c antientropy.Control) (antientropy.Status, error) {
	var st antientropy.Status
	if addr == "" {
		return st, errors.New("no HTTP address known for this member")
	}
	if !strings.Contains(addr, "://") && strings.HasPrefix(a.client.base, "https://") {
		addr = "https://" + addr
	}
	base, err := nodeURL(addr)
	if err != nil {
		return st, err
	}
	_, err = a.client.at(base).do(ctx, http.MethodPost, "/admin/aae", c, &st)
	return st, err
}
