package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cairnkv/cairn/handoff"
	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/spf13/cobra"
)

func newTransfersCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "transfers",
		Short: "List the partition transfers (hinted and ownership handoff) and their progress",
		Long: "List every transfer the cluster's members report: hinted handoff (objects a fallback holds\n" +
			"for a node that was down) and ownership handoff (partitions moving after 'cluster commit').\n" +
			"KEYS and BYTES are what the receiver has acknowledged (KEYS of the estimated total when known);\n" +
			"RATE and ETA are over the current attempt. A member that does not answer is named in a warning:\n" +
			"the transfers it sends are then missing from the list. A hinted transfer in state grace is a\n" +
			"partition its sender owned until a ring change: it keeps its copy for requests routed by a\n" +
			"lagging ring for the drop grace (1 min), then hands it off. A node that lists nothing it sends\n" +
			"holds no data but its own partitions; one that has left ('exiting') may then be stopped.\n" +
			"With -o json, the admin API's answer (GET /admin/transfers) as it is.",
		Example: "  cairnctl transfers\n" +
			"  cairnctl -o json transfers | jq -r '.transfers[] | select(.state == \"retrying\") | .id'",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var tl adminapi.TransferList
			raw, err := a.do(cmd.Context(), http.MethodGet, "/admin/transfers", nil, &tl)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return printJSON(a.stdout, raw)
			}
			return printTransfers(a, tl)
		},
	}
}

func newTransferCommand(a *app) *cobra.Command {
	cmd := group("transfer", "Pause, resume, cancel or drop one transfer",
		"  cairnctl transfer pause ownership/5/n1/n2\n  cairnctl transfer resume hinted/12/n4/n3",
		controlCommand(a, handoff.Pause, "Pause a transfer; it keeps its progress",
			"Pause a transfer on the node that sends it. It keeps its progress (the last key the receiver\n"+
				"acknowledged) and does not start again until resumed.",
			"paused %[1]s; resume it with 'cairnctl transfer resume %[1]s'\n"),
		controlCommand(a, handoff.Resume, "Resume a paused or cancelled transfer, or retry one now",
			"Resume a paused or cancelled transfer: it starts when its sending node has a free slot. A paused\n"+
				"transfer continues after the last key the receiver acknowledged; a cancelled one starts over.\n"+
				"A retrying transfer starts without waiting out its backoff. Resuming a waiting or running\n"+
				"transfer changes nothing.",
			"resumed %[1]s; follow it with 'cairnctl transfers'\n"),
		controlCommand(a, handoff.Cancel, "Cancel a transfer; it drops its progress",
			"Cancel a transfer: it stops, drops its progress and does not start again until resumed, when it\n"+
				"starts over. A partition whose ownership transfer is cancelled stays with its current owner\n"+
				"(see 'cairnctl ring-status').",
			"cancelled %[1]s; 'cairnctl transfer resume %[1]s' starts it over\n"),
		controlCommand(a, handoff.Drop, "Delete the hints of a hinted transfer instead of delivering them",
			"Drop a hinted transfer: the sending node deletes the objects it holds for the partition's owner\n"+
				"instead of delivering them. For hints kept past the hint window for a node that is gone for\n"+
				"good, or that anti-entropy will repair. Writes that reached only those hints are lost; there is\n"+
				"no undo. Ownership transfers cannot be dropped.",
			"dropped the hints of %[1]s\n"),
	)
	cmd.Long = "Pause, resume, cancel or drop one transfer on the node that sends it. ID is kind/partition/from/to,\n" +
		"as 'cairnctl transfers' lists it."
	return cmd
}

// controlCommand is one of the commands that act on a transfer. done is
// what it prints, with the id as its argument.
func controlCommand(a *app, action handoff.Action, short, long, done string) *cobra.Command {
	return &cobra.Command{
		Use:     string(action) + " ID",
		Short:   short,
		Long:    long + "\nID is kind/partition/from/to, as 'cairnctl transfers' lists it.",
		Example: fmt.Sprintf("  cairnctl transfer %s ownership/5/n1/n2", action),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := handoff.ParseID(args[0])
			if err != nil {
				return err
			}
			raw, err := a.do(cmd.Context(), http.MethodPost, "/admin/transfer/"+string(action),
				adminapi.TransferRequest{ID: id.String()}, nil)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return printJSON(a.stdout, raw)
			}
			_, err = fmt.Fprintf(a.stdout, done, id)
			return err
		},
	}
}

func printTransfers(a *app, tl adminapi.TransferList) error {
	w := a.stdout
	if len(tl.Transfers) == 0 {
		fmt.Fprintln(w, "no transfers")
	} else {
		t := newTable(w, "ID", "STATE", "KEYS", "BYTES", "RATE", "ETA", "ATTEMPTS", "LAST ERROR")
		for _, s := range tl.Transfers {
			keys := fmt.Sprint(s.Keys)
			if s.TotalKeys > 0 {
				keys += fmt.Sprintf("/%d", s.TotalKeys)
			}
			rate := "-"
			if s.Rate > 0 {
				rate = humanBytes(s.Rate) + "/s"
			}
			t.row(s.ID, s.State, keys, humanBytes(float64(s.Bytes)), rate, eta(s.ETA), s.Attempts, orDash(oneLine(s.LastError, 60)))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	summary := fmt.Sprintf("%d active, %d waiting", tl.Active, tl.Waiting)
	held := make(map[handoff.State]int)
	for _, s := range tl.Transfers {
		held[s.State]++
	}
	for _, st := range []handoff.State{handoff.Paused, handoff.Cancelled} {
		if held[st] > 0 {
			summary += fmt.Sprintf(", %d %s", held[st], st)
		}
	}
	if held[handoff.Grace] > 0 {
		summary += fmt.Sprintf(", %d in grace", held[handoff.Grace])
	}
	fmt.Fprintln(w, summary)
	if err := warnBehind(w, tl.Behind); err != nil {
		return err
	}
	if tl.RingUnconfirmed != "" {
		if _, err := fmt.Fprintf(w, "WARNING: the asked node could not confirm the cluster's newest ring (%s): members that all lag alike are not named behind; ask a node that reaches the Raft leader before stopping one\n", tl.RingUnconfirmed); err != nil {
			return err
		}
	}
	return warnUnreachable(w, tl.Unreachable)
}

// warnBehind names the members that listed their transfers against an
// older ring than another member's or the cluster's newest.
func warnBehind(w io.Writer, nodes []string) error {
	return warnMembers(w, nodes,
		"WARNING: %s answered from an older ring than the cluster's newest: copies it holds of partitions moved since may be missing; do not stop it until it has caught up\n",
		"WARNING: %s answered from an older ring than the cluster's newest: copies they hold of partitions moved since may be missing; do not stop them until they have caught up\n")
}

// warnUnreachable names the members that did not report their transfers.
func warnUnreachable(w io.Writer, nodes []string) error {
	return warnMembers(w, nodes,
		"WARNING: no answer from %s: the transfers it sends are not shown\n",
		"WARNING: no answer from %s: the transfers they send are not shown\n")
}

// warnMembers prints one warning naming nodes, if any: one's format for
// a single node, several's for more, their names joined.
func warnMembers(w io.Writer, nodes []string, one, several string) error {
	var err error
	switch len(nodes) {
	case 0:
	case 1:
		_, err = fmt.Fprintf(w, one, nodes[0])
	default:
		_, err = fmt.Fprintf(w, several, strings.Join(nodes, ", "))
	}
	return err
}

// humanBytes formats a size in IEC units: 512 B, 1.5 KiB, 3.0 MiB.
func humanBytes(n float64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", int64(n))
	}
	const units = "KMGTPE"
	i := 0
	for n /= 1024; n >= 1024 && i < len(units)-1; i++ {
		n /= 1024
	}
	return fmt.Sprintf("%.1f %ciB", n, units[i])
}

// eta formats the time a transfer has left: 45s, 5m30s, 2h05m.
func eta(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Second:
		return "<1s"
	}
	d = d.Round(time.Second)
	h, m, s := d/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// oneLine makes s fit a table cell: one line, at most max runes. -o json
// has it whole.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}
