package main

import (
	"strings"
	"testing"

	"github.com/cairnkv/cairn/node"
)

func TestBucketTypeLifecycle(t *testing.T) {
	f := fixture()
	url := serve(t, f)

	out := ok(t, cairnctl(t, url, "bucket-type", "create", "maps", `{"props":{"n_val":5,"allow_mult":false}}`))
	if out != "maps created; activate it with 'cairnctl bucket-type activate maps'\n" {
		t.Errorf("create: %q", out)
	}
	out = ok(t, cairnctl(t, url, "bucket-type", "status", "maps"))
	want := lines(`
		maps has been created but is not active

		allow_mult: false
		basic_quorum: false
		consistent: false
		dw: quorum
		last_write_wins: false
		n_val: 5
		notfound_ok: true
		pr: 0
		pw: 0
		r: quorum
		read_fanout: all
		rw: quorum
		w: quorum
		`)
	if out != want {
		t.Errorf("status got\n%s\nwant\n%s", out, want)
	}

	if out := ok(t, cairnctl(t, url, "bucket-type", "activate", "maps")); out != "maps has been activated\n" {
		t.Errorf("activate: %q", out)
	}
	if out := ok(t, cairnctl(t, url, "bucket-type", "update", "maps", `{"r":"one","w":2}`)); out != "maps updated\n" {
		t.Errorf("update: %q", out)
	}
	out = ok(t, cairnctl(t, url, "bucket-type", "status", "maps"))
	if !strings.HasPrefix(out, "maps is active\n\n") || !strings.Contains(out, "\nr: one\n") || !strings.Contains(out, "\nw: 2\n") {
		t.Errorf("status after update:\n%s", out)
	}

	ok(t, cairnctl(t, url, "bucket-type", "create", "plain"))
	out = ok(t, cairnctl(t, url, "bucket-type", "list"))
	want = lines(`
		NAME     STATUS      N_VAL  ALLOW_MULT  CONSISTENT
		default  active      3      true        false
		maps     active      5      false       false
		plain    not active  3      true        false
		`)
	if out != want {
		t.Errorf("list got\n%s\nwant\n%s", out, want)
	}
}

func TestBucketTypePropsForms(t *testing.T) {
	for _, arg := range []string{`{"props":{"n_val":1}}`, `{"n_val":1}`, ` { "props" : { "n_val" : 1 } } `} {
		f := fixture()
		ok(t, cairnctl(t, serve(t, f), "bucket-type", "create", "t", arg))
		if got := f.BucketTypes["t"].Props.NVal; got != 1 {
			t.Errorf("create %s: n_val %d, want 1", arg, got)
		}
	}
}

func TestBucketTypePropsFromStdin(t *testing.T) {
	f := fixture()
	url := serve(t, f)
	inv := invocation{stdin: strings.NewReader(`{"props":{"n_val":2}}` + "\n")}
	ok(t, inv.run(t, "--node", url, "bucket-type", "create", "t", "-"))
	inv = invocation{stdin: strings.NewReader(`{"r":"all"}`)}
	ok(t, inv.run(t, "--node", url, "bucket-type", "update", "t", "-"))
	got := f.BucketTypes["t"].Props
	if got.NVal != 2 || got.R != node.QuorumAll {
		t.Errorf("props %+v, want n_val 2 and r all", got)
	}
}

func TestBucketTypeErrors(t *testing.T) {
	f := fixture()
	url := serve(t, f)
	failed(t, cairnctl(t, url, "bucket-type", "create", "default"), `meta: bucket type exists: "default"`)
	failed(t, cairnctl(t, url, "bucket-type", "create", "t", `{"n_val":0}`), "node: invalid bucket properties: n_val must be between 1 and")
	failed(t, cairnctl(t, url, "bucket-type", "create", "t", `{"colour":"red"}`), `unknown property "colour"`)
	failed(t, cairnctl(t, url, "bucket-type", "create", "t", `n_val=3`), "props must be a JSON object")
	failed(t, cairnctl(t, url, "bucket-type", "create", "t", `null`), "props must be a JSON object")
	failed(t, cairnctl(t, url, "bucket-type", "create", "t", `[]`), "props must be a JSON object")
	failed(t, cairnctl(t, url, "bucket-type", "activate", "nope"), `node: unknown bucket type: "nope"`)
	failed(t, cairnctl(t, url, "bucket-type", "status", "nope"), `node: unknown bucket type: "nope"`)
	failed(t, cairnctl(t, url, "bucket-type", "update", "nope", `{"n_val":2}`), `node: unknown bucket type: "nope"`)
	failed(t, cairnctl(t, url, "bucket-type", "update", "default"), "accepts 2 arg(s), received 1")
	failed(t, cairnctl(t, url, "bucket-type", "update", "default", `{"consistent":true}`), "consistent is fixed")
	if len(f.BucketTypes) != 1 {
		t.Errorf("types %v after failures, want default only", f.BucketTypes)
	}
}

func TestBucketTypeNameIsEscaped(t *testing.T) {
	f := fixture()
	url := serve(t, f)
	ok(t, cairnctl(t, url, "bucket-type", "create", "a/b c?"))
	if _, found := f.BucketTypes["a/b c?"]; !found {
		t.Fatalf("types %v, want \"a/b c?\"", f.BucketTypes)
	}
	out := ok(t, cairnctl(t, url, "bucket-type", "status", "a/b c?"))
	if !strings.HasPrefix(out, "a/b c? has been created") {
		t.Errorf("status: %q", out)
	}
}
