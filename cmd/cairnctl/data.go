package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	kv "github.com/cairnkv/cairn/client"
	"github.com/spf13/cobra"
)

// The data commands (get, put, delete, list-keys) speak the node's Riak
// HTTP API through the Go client, as an application would: what they show
// is what a program built on package client sees.

// kvClient checks the global flags and makes a Go client for --node, with
// --timeout as its Timeout and the default retries.
func (a *app) kvClient() (*kv.Client, error) {
	if err := a.setup(); err != nil {
		return nil, err
	}
	cfg := kv.DefaultConfig()
	cfg.Nodes = []string{a.client.base}
	cfg.Timeout = a.timeout
	cfg.CAFile, cfg.Token = a.ca, a.token
	return kv.New(cfg)
}

// dataError is a failed call as the admin commands report one: the
// server's status and message, or why the node did not answer.
func (a *app) dataError(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no answer from the cairn node at %s within %s; raise --timeout or try another --node", a.client.base, a.timeout)
	case errors.Is(err, context.Canceled):
		return errors.New("interrupted")
	}
	var e *kv.Error
	if !errors.As(err, &e) {
		return err
	}
	if e.Status != 0 {
		msg := fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
		if e.Message != "" {
			msg += ": " + e.Message
		}
		return errors.New(msg)
	}
	if strings.Contains(e.Message, "connection refused") {
		return fmt.Errorf("cannot connect to the cairn node at %s: connection refused; "+
			"is it running? point --node (or CAIRN_NODE) at a node's HTTP address", e.Node)
	}
	return fmt.Errorf("cannot reach the cairn node at %s: %s", e.Node, e.Message)
}

func location(args []string) kv.Location {
	return kv.Location{Type: args[0], Bucket: args[1], Key: args[2]}
}

func newGetCommand(a *app) *cobra.Command {
	var (
		f   requestFlags
		raw bool
	)
	cmd := &cobra.Command{
		Use:   "get TYPE BUCKET KEY",
		Short: "Read a key: its siblings and causal context",
		Long: "Read a key and print each sibling (content type, last-modified, vtag, metadata, links and the\n" +
			"value: as it is when it is UTF-8 text, else its size) and the causal context on a line of its\n" +
			"own, \"context: …\". Pass the context to put or delete with --context to supersede exactly\n" +
			"what was read; a write without it adds a sibling.\n\n" +
			"--raw writes only the value's bytes, for a key without siblings.\n" +
			"With -o json: {\"type\",\"bucket\",\"key\",\"context\",\"siblings\":[{\"value\" (UTF-8 text) or\n" +
			"\"value_base64\",\"content_type\",\"charset\",\"content_encoding\",\"last_modified\",\"vtag\",\"meta\",\"links\"}]}.\n\n" +
			"A key that does not exist exits 1; if it was deleted, the tombstone's context is printed,\n" +
			"for a put over the delete.",
		Example: "  cairnctl get default users ada\n" +
			"  cairnctl get default users ada --r all --notfound-ok false\n" +
			"  cairnctl get default images logo --raw > logo.png\n" +
			"  cairnctl -o json get default users ada | jq -r .context",
		Args:              cobra.ExactArgs(3),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			if raw && a.jsonOutput() {
				return errors.New("--raw and -o json: choose one")
			}
			c, err := a.kvClient()
			if err != nil {
				return err
			}
			defer c.Close()
			loc := location(args)
			obj, err := c.Get(cmd.Context(), loc, f.options()...)
			if errors.Is(err, kv.ErrNotFound) && obj != nil {
				return a.notFound(loc, obj.Context, raw)
			}
			if err != nil {
				return a.dataError(err)
			}
			switch {
			case raw:
				if n := len(obj.Siblings); n != 1 {
					return fmt.Errorf("%s has %d siblings: --raw prints one value; see them with 'cairnctl get %s %s %s' "+
						"and resolve them with put --context", loc, n, args[0], args[1], args[2])
				}
				_, err = a.stdout.Write(obj.Value())
				return err
			case a.jsonOutput():
				return writeJSON(a.stdout, newObjectJSON(loc, obj))
			}
			return printObject(a.stdout, loc, obj)
		},
	}
	f.addQuorumFlags(cmd, "r", "pr")
	f.addReadFlags(cmd)
	cmd.Flags().BoolVar(&raw, "raw", false, "write only the value's bytes (fails if the key has siblings)")
	return cmd
}

// notFound prints a deleted key's tombstone context, so that a put over
// the delete can be causal, and returns the not-found error.
func (a *app) notFound(loc kv.Location, tombstone string, raw bool) error {
	if tombstone == "" {
		return fmt.Errorf("not found: %s", loc)
	}
	var err error
	switch {
	case raw:
		return fmt.Errorf("not found: %s was deleted", loc)
	case a.jsonOutput():
		err = writeJSON(a.stdout, newObjectJSON(loc, &kv.Object{Context: tombstone}))
	default:
		_, err = fmt.Fprintf(a.stdout, "context: %s\n", tombstone)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("not found: %s was deleted; its context is on stdout, for put --context", loc)
}

func newPutCommand(a *app) *cobra.Command {
	var (
		f           requestFlags
		file        string
		contentType string
		causal      string
		meta        []string
		returnBody  bool
		ifNoneMatch bool
	)
	cmd := &cobra.Command{
		Use:   "put TYPE BUCKET KEY [VALUE|-]",
		Short: "Write a value to a key",
		Long: "Write VALUE, stdin (\"-\") or --file to a key. The content type is text/plain for an argument and\n" +
			"application/octet-stream for stdin or a file, unless --content-type says otherwise.\n\n" +
			"Without --context the write is blind: on an existing key it becomes a sibling of what is\n" +
			"there. With the context of a get, it supersedes exactly what that get read: this is how\n" +
			"siblings are resolved.\n\n" +
			"Prints a one-line confirmation; with --return-body, the stored object as get prints it\n" +
			"(every sibling, and the new context). With -o json, get's shape (no siblings and an empty\n" +
			"context without --return-body).",
		Example: "  cairnctl put default users ada 'Ada Lovelace'\n" +
			"  cairnctl put default users ada '{\"name\":\"Ada\"}' --content-type application/json --meta team=engines\n" +
			"  cairnctl put default users ada 'Ada King' --context \"$(cairnctl get default users ada | sed -n 's/^context: //p')\"\n" +
			"  cairnctl put default images logo --file logo.png --content-type image/png --w all\n" +
			"  jq -c . ada.json | cairnctl put default users ada - --content-type application/json\n" +
			"  cairnctl put default users bob 'Bob' --if-none-match --return-body",
		Args:              cobra.RangeArgs(3, 4),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			value, defaultType, err := putValue(cmd, args, file)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("content-type") {
				contentType = defaultType
			}
			metadata, err := parseMeta(meta)
			if err != nil {
				return err
			}
			c, err := a.kvClient()
			if err != nil {
				return err
			}
			defer c.Close()
			loc := location(args)
			obj := kv.NewObject(loc, value, contentType)
			obj.Context = strings.TrimSpace(causal)
			obj.Siblings[0].Meta = metadata
			opts := f.options()
			if returnBody {
				opts = append(opts, kv.ReturnBody(true))
			}
			if ifNoneMatch {
				opts = append(opts, kv.IfNoneMatch())
			}
			stored, err := c.Put(cmd.Context(), obj, opts...)
			if err != nil {
				return a.dataError(err)
			}
			switch {
			case a.jsonOutput():
				return writeJSON(a.stdout, newObjectJSON(loc, stored))
			case returnBody && stored != nil:
				return printObject(a.stdout, loc, stored)
			}
			if stored != nil && stored.Context != "" {
				_, err = fmt.Fprintf(a.stdout, "stored %s\ncontext: %s\n", loc, stored.Context)
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "stored %s; 'cairnctl get %s %s %s' shows it with its context\n",
				loc, args[0], args[1], args[2])
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&file, "file", "", "read the value from this file (\"-\": stdin)")
	fl.StringVar(&contentType, "content-type", "", "the value's media type (default text/plain for an argument, application/octet-stream for stdin or --file)")
	fl.StringVar(&causal, "context", "", "the causal context of a get (its \"context:\" line): supersede what it read")
	fl.StringArrayVar(&meta, "meta", nil, "user metadata NAME=VALUE (X-Riak-Meta-NAME); repeat for more")
	fl.BoolVar(&returnBody, "return-body", false, "print the stored object, every sibling, and its new context")
	fl.BoolVar(&ifNoneMatch, "if-none-match", false, "write only if the key does not exist (If-None-Match: *)")
	f.addQuorumFlags(cmd, "w", "dw", "pw")
	return cmd
}

// putValue reads put's value from its fourth argument, stdin or --file,
// and says which content type it has by default.
func putValue(cmd *cobra.Command, args []string, file string) ([]byte, string, error) {
	const binary = "application/octet-stream"
	switch {
	case len(args) == 4 && file != "":
		return nil, "", errors.New("give the value as an argument or with --file, not both")
	case len(args) == 4 && args[3] == "-", file == "-":
		v, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return nil, "", fmt.Errorf("reading the value from stdin: %w", err)
		}
		return v, binary, nil
	case len(args) == 4:
		return []byte(args[3]), "text/plain", nil
	case file != "":
		v, err := os.ReadFile(file)
		if err != nil {
			return nil, "", fmt.Errorf("--file: %w", err)
		}
		return v, binary, nil
	}
	return nil, "", errors.New("no value: give it as an argument, - for stdin, or --file FILE")
}

// parseMeta reads --meta NAME=VALUE flags.
func parseMeta(flags []string) (map[string]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(flags))
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--meta %q: want NAME=VALUE", f)
		}
		m[name] = value
	}
	return m, nil
}

func newDeleteCommand(a *app) *cobra.Command {
	var (
		f      requestFlags
		causal string
	)
	cmd := &cobra.Command{
		Use:   "delete TYPE BUCKET KEY",
		Short: "Delete a key",
		Long: "Delete a key. With the context of a get, the delete supersedes what that get read, and a\n" +
			"concurrent write survives it as a sibling; without, it supersedes whatever the node reads\n" +
			"first. A key that does not exist exits 1. With -o json, nothing is printed.",
		Example: "  cairnctl delete default users ada\n" +
			"  cairnctl delete default users ada --context \"$(cairnctl -o json get default users ada | jq -r .context)\" --w all",
		Args:              cobra.ExactArgs(3),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.kvClient()
			if err != nil {
				return err
			}
			defer c.Close()
			loc := location(args)
			err = c.Delete(cmd.Context(), loc, strings.TrimSpace(causal), f.options()...)
			switch {
			case errors.Is(err, kv.ErrNotFound):
				return fmt.Errorf("not found: %s", loc)
			case err != nil:
				return a.dataError(err)
			case a.jsonOutput():
				return nil
			}
			_, err = fmt.Fprintf(a.stdout, "deleted %s\n", loc)
			return err
		},
	}
	cmd.Flags().StringVar(&causal, "context", "", "the causal context of a get: delete what it read")
	f.addQuorumFlags(cmd, "rw", "r", "pr", "w", "dw", "pw")
	return cmd
}

func newListKeysCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list-keys TYPE BUCKET",
		Short: "List a bucket's keys (expensive: scans the whole cluster)",
		Long: "List the keys of a bucket that hold a live value, one per line as the node finds them, in\n" +
			"no order. With -o json, a JSON array, also streamed: if the listing fails part way the array\n" +
			"is left unclosed and cairnctl exits 1.\n\n" +
			"WARNING: listing keys scans every partition of every node in the cluster and reads each\n" +
			"key it finds from its replicas. It is for operators, tests and migrations: do not run it\n" +
			"against a busy production cluster, and never from an application's request path.\n" +
			"--timeout bounds the whole listing: raise it for a large bucket.",
		Example: "  cairnctl list-keys default users\n" +
			"  cairnctl --timeout 5m list-keys default users | wc -l\n" +
			"  cairnctl -o json list-keys default users | jq length",
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.kvClient()
			if err != nil {
				return err
			}
			defer c.Close()
			n := 0
			err = c.ListKeys(cmd.Context(), args[0], args[1], func(key string) error {
				n++
				if !a.jsonOutput() {
					_, err := fmt.Fprintln(a.stdout, key)
					return err
				}
				sep := ",\n  "
				if n == 1 {
					sep = "[\n  "
				}
				if _, err := io.WriteString(a.stdout, sep); err != nil {
					return err
				}
				return writeJSONString(a.stdout, key)
			})
			if err != nil {
				return a.dataError(err)
			}
			if !a.jsonOutput() {
				return nil
			}
			end := "\n]\n"
			if n == 0 {
				end = "[]\n"
			}
			_, err = io.WriteString(a.stdout, end)
			return err
		},
	}
}

// writeJSONString writes s as a JSON string, without the newline an
// Encoder adds.
func writeJSONString(w io.Writer, s string) error {
	var b strings.Builder
	if err := writeJSON(&b, s); err != nil {
		return err
	}
	_, err := io.WriteString(w, strings.TrimSuffix(b.String(), "\n"))
	return err
}
