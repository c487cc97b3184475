package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/ring"
	"github.com/spf13/cobra"
)

// mapWidth is how many partitions a line of the ring map shows.
const mapWidth = 64

func newRingShowCommand(a *app) *cobra.Command {
	var n int
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show every partition: its owner, next owner and preference list, and a map of the ring",
		Long: "Show the committed ring partition by partition. First a map: one character per partition,\n" +
			"64 to a line, each line starting with its first partition; each owner is a letter (the legend\n" +
			"says whose), lower case where the partition is moving to a new owner. Then one row per\n" +
			"partition: its owner, its next owner while a transfer is pending, and the owners of its\n" +
			"preference list, the partition and the next n-1 clockwise, which hold the replicas of its keys.\n" +
			"--n sets n; it defaults to the ring's target n_val. A warning lists the partitions whose\n" +
			"preference list has a node more than once.\n" +
			"With -o json, the admin API's answer (GET /admin/ring) as it is.",
		Example: "  cairnctl ring show\n  cairnctl ring show --n 5 | less",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("n") && n < 1 {
				return fmt.Errorf("--n %d: a preference list has at least 1 partition", n)
			}
			var r meta.RingState
			raw, err := a.do(cmd.Context(), http.MethodGet, "/admin/ring", nil, &r)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return printJSON(a.stdout, raw)
			}
			return printRingShow(a.stdout, &r, n)
		},
	}
	cmd.Flags().IntVarP(&n, "n", "n", 0, "length of the preference lists shown (default the ring's target n_val)")
	return cmd
}

// printRingShow prints the ring map, its legend, then one row per
// partition with its preference list of n (0: the target n_val).
func printRingShow(w io.Writer, rs *meta.RingState, n int) error {
	r, err := ring.New(ring.Config{Size: rs.Size}, rs.Owners, rs.Epoch)
	if err != nil {
		return fmt.Errorf("the node's ring cannot be read: %w", err)
	}
	if n == 0 {
		n = rs.TargetN
		if n < 1 {
			n = ring.DefaultTargetN
		}
	}
	if n > r.Size() {
		return fmt.Errorf("--n %d: the ring has only %s", n, count(r.Size(), "partition"))
	}
	next := make(map[int]string, len(rs.Pending))
	for _, t := range rs.Pending {
		next[t.Partition] = t.To
	}
	fmt.Fprintf(w, "ring epoch %d, %s, target n_val %d, %s\n\n",
		rs.Epoch, count(r.Size(), "partition"), rs.TargetN, count(len(rs.Pending), "pending transfer"))

	sym := ownerSymbols(r.Members())
	for start := 0; start < r.Size(); start += mapWidth {
		var line strings.Builder
		for p := start; p < min(start+mapWidth, r.Size()); p++ {
			_, moving := next[p]
			line.WriteByte(sym.of(r.Owner(p), moving))
		}
		fmt.Fprintf(w, "%*d  %s\n", len(strconv.Itoa(r.Size()-1)), start, line.String())
	}
	fmt.Fprintln(w)
	for _, l := range sym.legend() {
		fmt.Fprintln(w, l)
	}
	if len(rs.Pending) > 0 {
		fmt.Fprintln(w, "lower case: moving to its next owner (progress: 'cairnctl ring-status')")
	}
	fmt.Fprintln(w)

	t := newTable(w, "PARTITION", "OWNER", "NEXT OWNER", fmt.Sprintf("PREFERENCE LIST (N=%d)", n))
	for p := range r.Size() {
		var owners []string
		for _, v := range r.PreflistFor(p, n) {
			owners = append(owners, v.Node)
		}
		t.row(p, r.Owner(p), orDash(next[p]), strings.Join(owners, ", "))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if bad := r.Violations(n); len(bad) > 0 {
		_, err := fmt.Fprintf(w, "\nWARNING: %d of %d preference lists put two replicas on one node: %s\n",
			len(bad), r.Size(), partitionList(bad, 16))
		return err
	}
	return nil
}

// partitionList spells partitions as "partition 3" or "partitions 3, 5,
// 9", the first max of them and "…" for the rest.
func partitionList(ps []int, max int) string {
	s := make([]string, 0, min(len(ps), max)+1)
	for _, p := range ps[:min(len(ps), max)] {
		s = append(s, strconv.Itoa(p))
	}
	if len(ps) > max {
		s = append(s, "…")
	}
	if len(ps) == 1 {
		return "partition " + s[0]
	}
	return "partitions " + strings.Join(s, ", ")
}

// symbols are the characters of the ring map: a letter per node, in the
// order of their ids; the nodes after the 26th share '#'.
type symbols struct {
	nodes  []string // sorted
	letter map[string]byte
}

// overflowSymbol stands for the nodes past Z; overflowMoving for their
// partitions that are moving.
const overflowSymbol, overflowMoving = '#', '*'

func ownerSymbols(nodes []string) symbols {
	s := symbols{nodes: slices.Sorted(slices.Values(nodes)), letter: make(map[string]byte, len(nodes))}
	for i, id := range s.nodes {
		if i < 26 {
			s.letter[id] = byte('A' + i)
		}
	}
	return s
}

// of is the character of a partition owned by node: its letter, lower
// case when the partition is moving.
func (s symbols) of(node string, moving bool) byte {
	c, ok := s.letter[node]
	switch {
	case !ok && moving:
		return overflowMoving
	case !ok:
		return overflowSymbol
	case moving:
		return c - 'A' + 'a'
	}
	return c
}

// legend says whose each letter is, in lines of at most mapWidth
// characters (one entry per line if an id is longer).
func (s symbols) legend() []string {
	var entries []string
	var rest []string
	for _, id := range s.nodes {
		if c, ok := s.letter[id]; ok {
			entries = append(entries, string(c)+"="+id)
		} else {
			rest = append(rest, id)
		}
	}
	if len(rest) > 0 {
		entries = append(entries, fmt.Sprintf("%c=%s (%c when moving)", overflowSymbol, strings.Join(rest, ","), overflowMoving))
	}
	var lines []string
	var line strings.Builder
	for _, e := range entries {
		if line.Len() > 0 && line.Len()+2+len(e) > mapWidth {
			lines = append(lines, line.String())
			line.Reset()
		}
		if line.Len() > 0 {
			line.WriteString("  ")
		}
		line.WriteString(e)
	}
	if line.Len() > 0 {
		lines = append(lines, line.String())
	}
	return lines
}
