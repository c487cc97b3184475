package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/cairnkv/cairn/node"
)

// decodeJSON checks out is indented JSON and decodes it strictly into a T.
func decodeJSON[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if !strings.HasPrefix(out, "{\n  ") && !strings.HasPrefix(out, "[\n  ") {
		t.Errorf("output is not indented JSON:\n%s", out)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %T from\n%s: %v", v, out, err)
	}
	return v
}

func TestJSONOutput(t *testing.T) {
	f := fixture()
	f.PlanResult = plannedFixture()
	f.StagedChanges = f.PlanResult.Changes
	url := serve(t, f)
	j := func(args ...string) string {
		t.Helper()
		return ok(t, cairnctl(t, url, append([]string{"-o", "json"}, args...)...))
	}

	if got := decodeJSON[meta.RaftStatus](t, j("raft", "status")); !reflect.DeepEqual(got, f.Raft) {
		t.Errorf("raft status: %+v", got)
	}
	st := decodeJSON[adminapi.ClusterStatus](t, j("cluster", "status"))
	if len(st.Members) != 4 || st.Ring == nil || st.Ring.Epoch != 5 || !reflect.DeepEqual(st.Staged, f.StagedChanges) {
		t.Errorf("cluster status: %+v", st)
	}
	if got := decodeJSON[meta.RingState](t, j("ring")); !reflect.DeepEqual(&got, f.RingState) {
		t.Errorf("ring: %+v", got)
	}
	if got := decodeJSON[meta.Plan](t, j("cluster", "plan")); !reflect.DeepEqual(&got, f.PlanResult) {
		t.Errorf("plan: %+v", got)
	}
	if got := decodeJSON[meta.Plan](t, j("cluster", "commit")); !reflect.DeepEqual(got.Changes, plannedFixture().Changes) {
		t.Errorf("commit: %+v", got)
	}
	// Staging and clearing answer 204: nothing to print.
	if out := j("cluster", "leave", "n1"); out != "" {
		t.Errorf("stage printed %q", out)
	}
	if out := j("cluster", "clear"); out != "" {
		t.Errorf("clear printed %q", out)
	}

	bt := decodeJSON[meta.BucketType](t, j("bucket-type", "create", "maps", `{"n_val":4}`))
	if bt.Name != "maps" || bt.Active || bt.Props.NVal != 4 {
		t.Errorf("create: %+v", bt)
	}
	if bt := decodeJSON[meta.BucketType](t, j("bucket-type", "activate", "maps")); !bt.Active {
		t.Errorf("activate: %+v", bt)
	}
	if bt := decodeJSON[meta.BucketType](t, j("bucket-type", "update", "maps", `{"n_val":2}`)); bt.Props.NVal != 2 {
		t.Errorf("update: %+v", bt)
	}
	if bt := decodeJSON[meta.BucketType](t, j("bucket-type", "status", "maps")); bt.Name != "maps" || !bt.Active {
		t.Errorf("status: %+v", bt)
	}
	if ts := decodeJSON[[]meta.BucketType](t, j("bucket-type", "list")); len(ts) != 2 || ts[1].Name != "maps" {
		t.Errorf("list: %+v", ts)
	}
}

// TestJSONIsTheServers checks -o json prints the server's answer as it
// is, only indented: fields cairnctl does not know survive.
func TestJSONIsTheServers(t *testing.T) {
	f := fixture()
	url := serve(t, f)
	out := ok(t, cairnctl(t, url, "--output=json", "ring"))
	var want bytes.Buffer
	raw, _ := json.Marshal(f.RingState)
	_ = json.Indent(&want, raw, "", "  ")
	if out != want.String()+"\n" {
		t.Errorf("got\n%s\nwant\n%s", out, want.String())
	}
}

func TestJSONErrorsStayOnStderr(t *testing.T) {
	failed(t, cairnctl(t, serve(t, fixture()), "-o", "json", "bucket-type", "status", "nope"), "unknown bucket type")
}

// requireFields fails unless the JSON in out has every one of paths:
// dot-separated object keys, with an array index as a number
// ("members.0.state"), present and not null. A strict decode catches fields cairnctl does not
// know; this catches fields the server stopped sending.
func requireFields(t *testing.T, out string, paths ...string) {
	t.Helper()
	var doc any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	for _, path := range paths {
		v := doc
		for _, k := range strings.Split(path, ".") {
			switch x := v.(type) {
			case map[string]any:
				var found bool
				if v, found = x[k]; !found {
					v = nil
				}
			case []any:
				i, err := strconv.Atoi(k)
				if err != nil || i < 0 || i >= len(x) {
					v = nil
				} else {
					v = x[i]
				}
			default:
				v = nil
			}
			if v == nil {
				t.Errorf("JSON has no %s:\n%s", path, out)
				break
			}
		}
	}
}

// TestJSONSchemas decodes the -o json of the commands that show the
// cluster strictly into their Go types and checks the fields a script
// reads are there.
func TestJSONSchemas(t *testing.T) {
	f := fixture()
	f.StagedChanges = []meta.Change{{Kind: meta.ChangeJoin, Node: "n4"}}
	f.Unreachable = []string{"n3"}
	url := serveTransfers(t, f)
	j := func(args ...string) string {
		t.Helper()
		return ok(t, cairnctl(t, url, append([]string{"-o", "json"}, args...)...))
	}

	for _, cmd := range [][]string{{"cluster", "status"}, {"member-status"}} {
		out := j(cmd...)
		st := decodeJSON[adminapi.ClusterStatus](t, out)
		if len(st.Members) != 4 || st.Ring == nil || len(st.Ring.Owners) != 4 || len(st.Staged) != 1 {
			t.Errorf("%v: %+v", cmd, st)
		}
		requireFields(t, out, "members.0.id", "members.0.state", "members.0.http_addr",
			"ring.epoch", "ring.size", "ring.target_n_val", "ring.pending_transfers",
			"ring.owners.0.node", "ring.owners.0.pct", "ring.owners.0.next_pct", "staged.0.kind", "staged.0.node")
	}

	out := j("ring", "show")
	if r := decodeJSON[meta.RingState](t, out); !reflect.DeepEqual(&r, f.RingState) {
		t.Errorf("ring show: %+v", r)
	}
	requireFields(t, out, "size", "target_n_val", "epoch", "owners.7", "pending.0.partition", "pending.0.from", "pending.0.to")

	out = j("raft", "status")
	decodeJSON[meta.RaftStatus](t, out)
	requireFields(t, out, "leader", "servers.0.id", "servers.0.healthy")
}

// bucketPropsAnswer is what GET …/props answers: Riak's document, the
// bucket's name among its properties.
type bucketPropsAnswer struct {
	Props struct {
		node.Props
		Name string `json:"name"`
	} `json:"props"`
}

func TestBucketPropsJSON(t *testing.T) {
	url, _ := serveNode(t)
	ok(t, cairnctl(t, url, "bucket", "props", "set", "maps", "carts", `{"r":"one"}`))
	out := ok(t, cairnctl(t, url, "-o", "json", "bucket", "props", "get", "maps", "carts"))
	got := decodeJSON[bucketPropsAnswer](t, out)
	want := node.DefaultProps()
	want.NVal, want.R = 2, node.QuorumOne
	if got.Props.Props != want || got.Props.Name != "carts" {
		t.Errorf("got %+v, want %+v named carts", got.Props, want)
	}
	requireFields(t, out, "props.name", "props.n_val", "props.allow_mult", "props.last_write_wins", "props.r", "props.w",
		"props.pr", "props.pw", "props.dw", "props.rw", "props.basic_quorum", "props.notfound_ok", "props.consistent")
}
