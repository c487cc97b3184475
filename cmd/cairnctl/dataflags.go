package main

import (
	"errors"
	"strconv"
	"strings"

	kv "github.com/cairnkv/cairn/client"
	"github.com/spf13/cobra"
)

// requestFlags are the per-request quorum and read flags of the data
// commands. A flag that is not given (or is "default") leaves the choice
// to the bucket's properties.
type requestFlags struct {
	r, pr, w, dw, pw, rw    kv.Quorum
	notFoundOK, basicQuorum *bool
}

// quorumUsage says what each quorum flag counts.
var quorumUsage = map[string]string{
	"r":  "replicas the read waits for",
	"pr": "primaries among the replicas the read waits for",
	"w":  "replicas that must acknowledge the write",
	"dw": "replicas that must acknowledge the write as durable",
	"pw": "primaries among the replicas that acknowledge the write",
	"rw": "quorum of the delete",
}

// addQuorumFlags adds the named quorum flags (r, pr, w, dw, pw, rw) to cmd.
func (f *requestFlags) addQuorumFlags(cmd *cobra.Command, names ...string) {
	fields := map[string]*kv.Quorum{"r": &f.r, "pr": &f.pr, "w": &f.w, "dw": &f.dw, "pw": &f.pw, "rw": &f.rw}
	for _, name := range names {
		q := fields[name]
		cmd.Flags().Var(quorumValue{q}, name, quorumUsage[name]+": one, quorum, all, default or a number (default: the bucket's)")
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(
			[]string{"one", "quorum", "all", "default"}, cobra.ShellCompDirectiveNoFileComp))
	}
}

// addReadFlags adds --notfound-ok and --basic-quorum to cmd.
func (f *requestFlags) addReadFlags(cmd *cobra.Command) {
	cmd.Flags().Var(boolValue{&f.notFoundOK}, "notfound-ok", "whether a replica's \"not found\" counts towards r (default: the bucket's)")
	cmd.Flags().Var(boolValue{&f.basicQuorum}, "basic-quorum", "give up with \"not found\" once a majority of replicas said so (default: the bucket's)")
	for _, name := range []string{"notfound-ok", "basic-quorum"} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(
			[]string{"true", "false", "default"}, cobra.ShellCompDirectiveNoFileComp))
	}
}

// options are the flags as client options. A call ignores those that do
// not apply to it, and a default quorum is not sent.
func (f *requestFlags) options() []kv.Option {
	opts := []kv.Option{kv.R(f.r), kv.PR(f.pr), kv.W(f.w), kv.DW(f.dw), kv.PW(f.pw), kv.RW(f.rw)}
	if f.notFoundOK != nil {
		opts = append(opts, kv.NotFoundOK(*f.notFoundOK))
	}
	if f.basicQuorum != nil {
		opts = append(opts, kv.BasicQuorum(*f.basicQuorum))
	}
	return opts
}

// quorumValue is a quorum flag's value: one, quorum, all, default or a
// number. The server checks a number against the bucket's n_val.
type quorumValue struct{ q *kv.Quorum }

func (v quorumValue) String() string {
	if v.q == nil {
		return ""
	}
	return string(*v.q)
}

func (v quorumValue) Set(s string) error {
	switch s = strings.ToLower(strings.TrimSpace(s)); s {
	case "default":
		*v.q = kv.DefaultQuorum
	case "one", "quorum", "all":
		*v.q = kv.Quorum(s)
	default:
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return errors.New("want one, quorum, all, default or a number")
		}
		*v.q = kv.Q(n)
	}
	return nil
}

func (quorumValue) Type() string { return "quorum" }

// boolValue is a flag that is true, false or, when not given, the
// bucket's. It takes its value as an argument (--notfound-ok false), which
// a pflag bool does not.
type boolValue struct{ b **bool }

func (v boolValue) String() string {
	if v.b == nil || *v.b == nil {
		return ""
	}
	return strconv.FormatBool(**v.b)
}

func (v boolValue) Set(s string) error {
	if strings.EqualFold(strings.TrimSpace(s), "default") {
		*v.b = nil
		return nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return errors.New("want true, false or default")
	}
	*v.b = &b
	return nil
}

func (boolValue) Type() string { return "true|false" }
