package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
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
