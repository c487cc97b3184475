package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/spf13/cobra"
)

func newBucketTypeCommand(a *app) *cobra.Command {
	return group("bucket-type", "Create, activate, update and inspect bucket types",
		"  cairnctl bucket-type create maps '{\"props\":{\"n_val\":5}}'\n  cairnctl bucket-type activate maps\n  cairnctl bucket-type list",
		&cobra.Command{
			Use:   "create NAME [JSON]",
			Short: "Create a bucket type (inactive until activated)",
			Long: "Create a bucket type with the default properties and those in JSON, either\n" +
				`'{"props":{"n_val":5}}' as riak-admin takes it or just '{"n_val":5}'; "-" reads it from stdin.`,
			Example: "  cairnctl bucket-type create maps '{\"props\":{\"n_val\":5}}'\n" +
				"  cairnctl bucket-type create sc '{\"consistent\":true}'\n" +
				"  cairnctl bucket-type create plain\n" +
				"  echo '{\"allow_mult\":false}' | cairnctl bucket-type create lww -",
			Args: cobra.RangeArgs(1, 2),
			RunE: func(cmd *cobra.Command, args []string) error {
				var req adminapi.TypeRequest
				if len(args) == 2 {
					props, err := propsArg(cmd, args[1])
					if err != nil {
						return err
					}
					req.Props = props
				}
				var t meta.BucketType
				raw, err := a.do(cmd.Context(), http.MethodPut, typePath(args[0]), req, &t)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return printJSON(a.stdout, raw)
				}
				_, err = fmt.Fprintf(a.stdout, "%s created; activate it with 'cairnctl bucket-type activate %s'\n", t.Name, t.Name)
				return err
			},
		},
		&cobra.Command{
			Use:     "activate NAME",
			Short:   "Activate a bucket type so that buckets of that type can be used",
			Example: "  cairnctl bucket-type activate maps",
			Args:    cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				var t meta.BucketType
				raw, err := a.do(cmd.Context(), http.MethodPost, typePath(args[0])+"/activate", nil, &t)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return printJSON(a.stdout, raw)
				}
				_, err = fmt.Fprintf(a.stdout, "%s has been activated\n", t.Name)
				return err
			},
		},
		&cobra.Command{
			Use:   "update NAME JSON",
			Short: "Change a bucket type's properties",
			Long: `JSON is '{"props":{"r":"one"}}' or just '{"r":"one"}'; "-" reads it from stdin.` + "\n" +
				"consistent cannot change, nor n_val once a consistent type is active.",
			Example: "  cairnctl bucket-type update maps '{\"r\":\"one\",\"w\":\"all\"}'\n" +
				"  cairnctl bucket-type update maps - < props.json",
			Args: cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				props, err := propsArg(cmd, args[1])
				if err != nil {
					return err
				}
				var t meta.BucketType
				raw, err := a.do(cmd.Context(), http.MethodPatch, typePath(args[0]), adminapi.TypeRequest{Props: props}, &t)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return printJSON(a.stdout, raw)
				}
				_, err = fmt.Fprintf(a.stdout, "%s updated\n", t.Name)
				return err
			},
		},
		&cobra.Command{
			Use:     "list",
			Short:   "List the bucket types",
			Example: "  cairnctl bucket-type list\n  cairnctl -o json bucket-type list | jq -r '.[].name'",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				var ts []meta.BucketType
				raw, err := a.do(cmd.Context(), http.MethodGet, "/admin/types", nil, &ts)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return printJSON(a.stdout, raw)
				}
				t := newTable(a.stdout, "NAME", "STATUS", "N_VAL", "ALLOW_MULT", "CONSISTENT")
				for _, bt := range ts {
					status := "not active"
					if bt.Active {
						status = "active"
					}
					t.row(bt.Name, status, bt.Props.NVal, bt.Props.AllowMult, bt.Props.Consistent)
				}
				return t.flush()
			},
		},
		&cobra.Command{
			Use:     "status NAME",
			Short:   "Show whether a bucket type is active, and its properties",
			Example: "  cairnctl bucket-type status maps",
			Args:    cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				var t meta.BucketType
				raw, err := a.do(cmd.Context(), http.MethodGet, typePath(args[0]), nil, &t)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return printJSON(a.stdout, raw)
				}
				return printTypeStatus(a, t)
			},
		},
	)
}

func typePath(name string) string { return "/admin/types/" + url.PathEscape(name) }

// propsArg reads a props argument: {"props":{…}} or the props object
// itself, or either from stdin for "-". It returns the props object.
func propsArg(cmd *cobra.Command, arg string) (json.RawMessage, error) {
	b := []byte(arg)
	if arg == "-" {
		var err error
		if b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), adminapi.MaxBodySize+1)); err != nil {
			return nil, fmt.Errorf("reading props from stdin: %w", err)
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
		if err == nil {
			err = errors.New("null")
		}
		return nil, fmt.Errorf(`props must be a JSON object, '{"props":{"n_val":3}}' or '{"n_val":3}': %w`, err)
	}
	if inner, ok := obj["props"]; ok && len(obj) == 1 {
		return inner, nil
	}
	return json.RawMessage(b), nil
}

// printTypeStatus prints a type as riak-admin bucket-type status does:
// whether it is active, then one "name: value" line per property.
func printTypeStatus(a *app, t meta.BucketType) error {
	w := a.stdout
	if t.Active {
		fmt.Fprintf(w, "%s is active\n\n", t.Name)
	} else {
		fmt.Fprintf(w, "%s has been created but is not active\n\n", t.Name)
	}
	b, err := json.Marshal(t.Props)
	if err != nil {
		return err
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(b, &props); err != nil {
		return err
	}
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "%s: %s\n", n, propValue(props[n]))
	}
	return nil
}
