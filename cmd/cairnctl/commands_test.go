package main

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// walk calls fn on cmd and every command below it.
func walk(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, c := range cmd.Commands() {
		walk(c, fn)
	}
}

// TestEveryCommandHasAnExample walks the whole tree, cobra's help and
// completion commands included: each command's --help shows an example of
// itself. Runnable commands must have one; groups that only hold others
// are held to the same rule, the root included.
func TestEveryCommandHasAnExample(t *testing.T) {
	root := newRootCommand(io.Discard, io.Discard, func(string) string { return "" })
	n := 0
	walk(root, func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		if c.Runnable() {
			n++
		}
		path := c.CommandPath()
		if c.Example == "" {
			t.Errorf("%s has no Example", path)
			return
		}
		mentions := false
		for _, l := range strings.Split(c.Example, "\n") {
			if !strings.HasPrefix(l, "  ") {
				t.Errorf("%s: example line %q is not indented by two spaces", path, l)
			}
			// Global flags may come between cairnctl and the command.
			mentions = mentions || strings.Contains(l, path) || strings.Contains(l, strings.TrimPrefix(path, "cairnctl ")+" ")
		}
		if !mentions {
			t.Errorf("%s: no example runs it:\n%s", path, c.Example)
		}
	})
	if n < 40 {
		t.Errorf("walked %d runnable commands; the tree is missing some", n)
	}
}

func TestHelpShowsExamples(t *testing.T) {
	url := serve(t, fixture())
	for _, args := range [][]string{
		{"member-status", "--help"},
		{"ring", "show", "--help"},
		{"bucket", "props", "set", "--help"},
		{"cluster", "force-replace", "--help"},
		{"completion", "bash", "--help"},
		{"help", "cluster", "status"},
	} {
		out := ok(t, cairnctl(t, url, args...))
		if !strings.Contains(out, "\nExamples:\n  ") {
			t.Errorf("%v: no examples in\n%s", args, out)
		}
	}
}

// TestCommands pins the command tree the README documents.
func TestCommands(t *testing.T) {
	root := newRootCommand(io.Discard, io.Discard, func(string) string { return "" })
	var got []string
	walk(root, func(c *cobra.Command) {
		if c != root && !c.Hidden {
			got = append(got, strings.TrimPrefix(c.CommandPath(), "cairnctl "))
		}
	})
	want := []string{
		"aae", "aae disable", "aae enable", "aae window",
		"aae-status",
		"bench",
		"bucket", "bucket props", "bucket props get", "bucket props reset", "bucket props set",
		"bucket-type", "bucket-type activate", "bucket-type create", "bucket-type list", "bucket-type status", "bucket-type update",
		"cluster", "cluster clear", "cluster commit", "cluster force-remove", "cluster force-replace", "cluster join",
		"cluster leave", "cluster plan", "cluster replace", "cluster status",
		"completion", "completion bash", "completion fish", "completion powershell", "completion zsh",
		"delete",
		"get",
		"help",
		"list-keys",
		"member-status",
		"put",
		"raft", "raft remove-peer", "raft status",
		"ring", "ring show",
		"ring-status",
		"tls", "tls init", "tls issue",
		"transfer", "transfer cancel", "transfer drop", "transfer pause", "transfer resume",
		"transfers",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash":       "# bash completion V2 for cairnctl",
		"zsh":        "#compdef cairnctl",
		"fish":       "# fish completion for cairnctl",
		"powershell": "# powershell completion for cairnctl",
	} {
		// No node is needed: --node points nowhere, and CAIRN_NODE too.
		inv := invocation{env: map[string]string{"CAIRN_NODE": "127.0.0.1:1"}}
		out := ok(t, inv.run(t, "completion", shell))
		if !strings.Contains(out, marker) || len(out) < 1000 {
			t.Errorf("completion %s: %d bytes, want a script with %q:\n%.300s", shell, len(out), marker, out)
		}
	}
	out := ok(t, invocation{}.run(t, "completion", "bash"))
	if !strings.Contains(out, "__start_cairnctl") {
		t.Errorf("the bash script has no __start_cairnctl")
	}
}

// TestCompletionCandidates asks for completions as the shell scripts do.
func TestCompletionCandidates(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "mem"}, []string{"member-status\t"}},
		{[]string{"__complete", "cluster", "force-"}, []string{"force-remove\t", "force-replace\t"}},
		{[]string{"__complete", "ring", ""}, []string{"show\t"}},
		{[]string{"__complete", "bucket", "props", ""}, []string{"get\t", "reset\t", "set\t"}},
		{[]string{"__complete", "-o", ""}, []string{"table", "json"}},
		{[]string{"__complete", "completion", ""}, []string{"bash\t", "fish\t", "powershell\t", "zsh\t"}},
	} {
		// __complete reports its directive on stderr, for debugging.
		r := invocation{}.run(t, tc.args...)
		out := r.stdout
		if r.code != 0 || !strings.HasPrefix(r.stderr, "Completion ended with directive:") {
			t.Errorf("%v: exit %d, stderr %q", tc.args, r.code, r.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, "\n"+w) && !strings.HasPrefix(out, w) {
				t.Errorf("%v: no %q in\n%s", tc.args, w, out)
			}
		}
	}
}
