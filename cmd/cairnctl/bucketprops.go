package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"

	"github.com/spf13/cobra"
)

// The bucket commands speak the node's Riak HTTP API, not the admin API:
// bucket properties live there (GET/PUT/DELETE …/props).

func newBucketCommand(a *app) *cobra.Command {
	return group("bucket", "Inspect and change buckets",
		"  cairnctl bucket props get default users",
		group("props", "Show, set or reset a bucket's properties",
			"  cairnctl bucket props get default users\n"+
				"  cairnctl bucket props set default users '{\"n_val\":5}'\n"+
				"  cairnctl bucket props reset default users",
			&cobra.Command{
				Use:   "get TYPE BUCKET",
				Short: "Show a bucket's properties",
				Long: "Show the properties of a bucket of a bucket type: its own where they were set, its type's\n" +
					"otherwise, one per line.\n" +
					"With -o json, the node's answer (GET /types/TYPE/buckets/BUCKET/props) as it is.",
				Example: "  cairnctl bucket props get default users\n" +
					"  cairnctl -o json bucket props get maps carts | jq .props.n_val",
				Args: cobra.ExactArgs(2),
				RunE: func(cmd *cobra.Command, args []string) error {
					var body struct {
						Props map[string]json.RawMessage `json:"props"`
					}
					raw, err := a.do(cmd.Context(), http.MethodGet, bucketPropsPath(args[0], args[1]), nil, &body)
					if err != nil {
						return err
					}
					if a.jsonOutput() {
						return printJSON(a.stdout, raw)
					}
					return printProps(a, body.Props)
				},
			},
			&cobra.Command{
				Use:   "set TYPE BUCKET JSON",
				Short: "Change some of a bucket's properties",
				Long: "Set the properties in JSON on a bucket, on top of those it has: '{\"n_val\":5,\"r\":\"one\"}', or\n" +
					"'{\"props\":{…}}' as the HTTP API takes it; \"-\" reads it from stdin. The node checks the result\n" +
					"(quorums within n_val; a bucket cannot change its type's consistent).\n" +
					"With -o json, nothing: the node answers 204.",
				Example: "  cairnctl bucket props set default users '{\"n_val\":5,\"w\":\"all\"}'\n" +
					"  cairnctl bucket props get default users -o json | jq '.props | {r, w}' | cairnctl bucket props set default archive -",
				Args: cobra.ExactArgs(3),
				RunE: func(cmd *cobra.Command, args []string) error {
					props, err := propsArg(cmd, args[2])
					if err != nil {
						return err
					}
					raw, err := a.do(cmd.Context(), http.MethodPut, bucketPropsPath(args[0], args[1]), propsBody{Props: props}, nil)
					if err != nil {
						return err
					}
					if a.jsonOutput() {
						return printJSON(a.stdout, raw)
					}
					_, err = fmt.Fprintf(a.stdout, "set the properties of bucket %s of type %s; see them with 'cairnctl bucket props get %s %s'\n",
						args[1], args[0], args[0], args[1])
					return err
				},
			},
			&cobra.Command{
				Use:   "reset TYPE BUCKET",
				Short: "Drop a bucket's own properties: it takes its type's again",
				Long: "Drop the properties set on a bucket: it has its type's again.\n" +
					"With -o json, nothing: the node answers 204.",
				Example: "  cairnctl bucket props reset default users",
				Args:    cobra.ExactArgs(2),
				RunE: func(cmd *cobra.Command, args []string) error {
					raw, err := a.do(cmd.Context(), http.MethodDelete, bucketPropsPath(args[0], args[1]), nil, nil)
					if err != nil {
						return err
					}
					if a.jsonOutput() {
						return printJSON(a.stdout, raw)
					}
					_, err = fmt.Fprintf(a.stdout, "bucket %s of type %s has its type's properties again\n", args[1], args[0])
					return err
				},
			},
		),
	)
}

// propsBody is the body of a PUT of bucket properties, as Riak's.
type propsBody struct {
	Props json.RawMessage `json:"props"`
}

// bucketPropsPath escapes the type and bucket as the HTTP API reads its
// path segments: %XX, and "+" for a space (so a "+" is sent as %2B).
func bucketPropsPath(typ, bucket string) string {
	return "/types/" + url.QueryEscape(typ) + "/buckets/" + url.QueryEscape(bucket) + "/props"
}

// printProps prints properties as a two-column table sorted by name.
// Strings print bare (quorums as riak-admin shows them: quorum, not
// "quorum"); other values as their JSON.
func printProps(a *app, props map[string]json.RawMessage) error {
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	t := newTable(a.stdout, "PROPERTY", "VALUE")
	for _, n := range names {
		t.row(n, propValue(props[n]))
	}
	return t.flush()
}

// propValue is a property's JSON value as a table shows it.
func propValue(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}
