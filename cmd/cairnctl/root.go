package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// defaultNode is where cairnctl looks without --node or CAIRN_NODE: the
// server's default HTTP address.
const defaultNode = "http://127.0.0.1:8098"

// app is one invocation's settings and output, shared by every command.
type app struct {
	stdout io.Writer

	node    string
	output  string
	timeout time.Duration
	ca      string // PEM file of the CAs of https:// nodes
	token   string // bearer token

	// client is made on the first request, once the flags are parsed.
	client *client
}

// run executes cairnctl with args and returns the exit status: 0, or 1
// after printing the error to stderr. stdin is read only for a "-"
// argument.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	root := newRootCommand(stdout, stderr, getenv)
	root.SetIn(stdin)
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "cairnctl:", err)
		return 1
	}
	return 0
}

// newRootCommand builds the command tree. getenv supplies CAIRN_NODE.
func newRootCommand(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	a := &app{stdout: stdout}
	node := getenv("CAIRN_NODE")
	if node == "" {
		node = defaultNode
	}
	root := &cobra.Command{
		Use:   "cairnctl",
		Short: "Administer a cairn cluster",
		Long: "cairnctl administers a cairn cluster through the admin HTTP API of one of its nodes.\n\n" +
			"Ring changes are staged, planned and committed, as with riak-admin:\n" +
			"  cairnctl cluster join n4\n  cairnctl cluster plan\n  cairnctl cluster commit\n\n" +
			"The partitions then move to their new owners; follow them with:\n" +
			"  cairnctl ring-status\n  cairnctl transfers\n\n" +
			"The members, who answers and who leads, and the ring partition by partition:\n" +
			"  cairnctl cluster status\n  cairnctl member-status\n  cairnctl ring show\n\n" +
			"Each node's active anti-entropy is shown and steered with:\n" +
			"  cairnctl aae-status\n  cairnctl aae disable --all\n\n" +
			"Credentials for cluster mutual TLS (a demo or test cluster's CA and node certificates):\n" +
			"  cairnctl tls init --dir ./tls\n  cairnctl tls issue --dir ./tls --name n1\n\n" +
			"Shell completion: source <(cairnctl completion bash); see 'cairnctl completion --help'.",
		Example: "  cairnctl --node 10.0.0.1:8098 cluster status\n" +
			"  CAIRN_NODE=10.0.0.1:8098 cairnctl member-status\n" +
			"  cairnctl -o json ring show | jq .epoch",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	f := root.PersistentFlags()
	f.StringVar(&a.node, "node", node, "URL or host:port of a node's HTTP API (env CAIRN_NODE)")
	f.StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	f.DurationVar(&a.timeout, "timeout", 10*time.Second, "how long to wait for the node's answer")
	f.StringVar(&a.ca, "ca", getenv("CAIRN_CA"), "PEM file of the certificate authorities of https:// nodes (default: the system's) (env CAIRN_CA)")
	f.StringVar(&a.token, "token", "", "bearer token for nodes started with --http-token-file (env CAIRN_TOKEN, which keeps it out of the process list)")
	if a.token == "" {
		a.token = getenv("CAIRN_TOKEN")
	}
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	root.AddCommand(
		newRaftCommand(a),
		newClusterCommand(a),
		newMemberStatusCommand(a),
		newRingCommand(a),
		newRingStatusCommand(a),
		newTransfersCommand(a),
		newTransferCommand(a),
		newAAEStatusCommand(a),
		newAAECommand(a),
		newBucketTypeCommand(a),
		newBucketCommand(a),
		newGetCommand(a),
		newPutCommand(a),
		newDeleteCommand(a),
		newListKeysCommand(a),
		newBenchCommand(a),
		newTLSCommand(a),
	)
	addDefaultCommands(root)
	return root
}

// addDefaultCommands adds cobra's help and completion commands now rather
// than when the tree runs, so that they get examples and tests that walk
// the tree see them. Cobra keeps commands that already exist.
func addDefaultCommands(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Example = "  cairnctl help cluster join"
		case "completion":
			c.Example = "  source <(cairnctl completion bash)"
			for _, sh := range c.Commands() {
				sh.Example = completionExamples[sh.Name()]
			}
		}
	}
}

// completionExamples install each shell's completion for the current
// session, and for good where that is one line.
var completionExamples = map[string]string{
	"bash": "  source <(cairnctl completion bash)\n" +
		"  cairnctl completion bash > /etc/bash_completion.d/cairnctl",
	"zsh": "  source <(cairnctl completion zsh)\n" +
		"  cairnctl completion zsh > \"${fpath[1]}/_cairnctl\"",
	"fish": "  cairnctl completion fish | source\n" +
		"  cairnctl completion fish > ~/.config/fish/completions/cairnctl.fish",
	"powershell": "  cairnctl completion powershell | Out-String | Invoke-Expression",
}

// do checks the global flags, then sends one request (client.do). The
// check waits for a request so that help and completion work whatever
// CAIRN_NODE holds.
func (a *app) do(ctx context.Context, method, path string, in, out any) ([]byte, error) {
	if a.client == nil {
		if err := a.setup(); err != nil {
			return nil, err
		}
	}
	return a.client.do(ctx, method, path, in, out)
}

// setup checks the global flags and makes the client.
func (a *app) setup() error {
	switch a.output {
	case "table", "json":
	default:
		return fmt.Errorf("--output %q: want table or json", a.output)
	}
	if a.timeout <= 0 {
		return fmt.Errorf("--timeout %s: must be positive", a.timeout)
	}
	base, err := nodeURL(a.node)
	if err != nil {
		return err
	}
	tc, err := loadCA(a.ca)
	if err != nil {
		return err
	}
	a.client = newClient(base, a.timeout, tc, a.token)
	return nil
}

// nodeURL turns --node into a base URL: a scheme is optional
// (127.0.0.1:8098 means http://127.0.0.1:8098) and a trailing slash is
// dropped. A path is kept, for a node behind a proxy.
func nodeURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("--node is empty: give a node's HTTP address, such as 127.0.0.1:8098")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("--node %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("--node %q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return "", fmt.Errorf("--node %q: no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--node %q: want scheme://host:port, with no query", s)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// group is a command that only holds subcommands. Without one it prints
// its help; an unknown one is an error (cobra would print help and exit 0).
func group(use, short, example string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q for %q; see '%s --help'", args[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}
