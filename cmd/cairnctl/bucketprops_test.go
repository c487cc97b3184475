package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/cairnkv/cairn/node"
)

// serveNode runs a standalone node's HTTP API, with the bucket type
// "maps" (n_val 2) besides default, and the admin API over fixture()
// under /admin/, as cmd/cairn mounts them. It returns the URL and the
// node.
func serveNode(t *testing.T) (string, *node.Node) {
	t.Helper()
	n, api := startNode(t, withMaps, nil)
	mux := http.NewServeMux()
	mux.Handle("/admin/", adminapi.New(fixture(), nil))
	mux.Handle("/", api)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, n
}

func TestBucketProps(t *testing.T) {
	url, n := serveNode(t)
	ctx := t.Context()

	golden(t, "bucket-props.golden", ok(t, cairnctl(t, url, "bucket", "props", "get", "maps", "carts")))

	out := ok(t, cairnctl(t, url, "bucket", "props", "set", "maps", "carts", `{"n_val":1,"r":"one","allow_mult":false}`))
	if want := "set the properties of bucket carts of type maps; see them with 'cairnctl bucket props get maps carts'\n"; out != want {
		t.Errorf("set: %q", out)
	}
	p, err := n.BucketProps(ctx, "maps", "carts")
	if err != nil || p.NVal != 1 || p.R != node.QuorumOne || p.AllowMult || p.W != node.QuorumQuorum {
		t.Errorf("after set: %+v, %v", p, err)
	}
	out = ok(t, cairnctl(t, url, "bucket", "props", "get", "maps", "carts"))
	for _, row := range []string{"\nallow_mult       false\n", "\nn_val            1\n", "\nr                one\n", "\nname             carts\n"} {
		if !strings.Contains(out, row) {
			t.Errorf("get after set does not show %q:\n%s", row, out)
		}
	}

	// From stdin, in the {"props":…} form.
	inv := invocation{stdin: strings.NewReader(`{"props":{"w":"all"}}` + "\n")}
	ok(t, inv.run(t, "--node", url, "bucket", "props", "set", "maps", "carts", "-"))
	if p, _ := n.BucketProps(ctx, "maps", "carts"); p.W != node.QuorumAll || p.NVal != 1 {
		t.Errorf("after set from stdin: %+v", p)
	}

	out = ok(t, cairnctl(t, url, "bucket", "props", "reset", "maps", "carts"))
	if out != "bucket carts of type maps has its type's properties again\n" {
		t.Errorf("reset: %q", out)
	}
	if p, _ := n.BucketProps(ctx, "maps", "carts"); p.NVal != 2 || p.W != node.QuorumQuorum {
		t.Errorf("after reset: %+v", p)
	}
	// 204s print nothing with -o json.
	if out := ok(t, cairnctl(t, url, "-o", "json", "bucket", "props", "set", "maps", "carts", `{"n_val":3}`)); out != "" {
		t.Errorf("json set printed %q", out)
	}
	if out := ok(t, cairnctl(t, url, "-o", "json", "bucket", "props", "reset", "maps", "carts")); out != "" {
		t.Errorf("json reset printed %q", out)
	}
}

// TestBucketPropsNamesAreEscaped sends type and bucket names that need
// escaping, "+" included (the HTTP API reads it as a space).
func TestBucketPropsNamesAreEscaped(t *testing.T) {
	url, n := serveNode(t)
	for _, bucket := range []string{"a/b c", "x+y", "100%", "é?#"} {
		ok(t, cairnctl(t, url, "bucket", "props", "set", "default", bucket, `{"n_val":1}`))
		if p, _ := n.BucketProps(t.Context(), "default", bucket); p.NVal != 1 {
			t.Errorf("bucket %q: n_val %d after set", bucket, p.NVal)
		}
		out := ok(t, cairnctl(t, url, "bucket", "props", "get", "default", bucket))
		if !strings.Contains(out, "\nname             "+bucket+"\n") {
			t.Errorf("get %q:\n%s", bucket, out)
		}
	}
	if p, _ := n.BucketProps(t.Context(), "default", "x y"); p.NVal != 3 {
		t.Errorf(`"x+y" was stored as "x y"`)
	}
}

func TestBucketPropsErrors(t *testing.T) {
	url, _ := serveNode(t)
	for _, args := range [][]string{
		{"get", "nope", "b"},
		{"set", "nope", "b", `{"n_val":1}`},
		{"reset", "nope", "b"},
	} {
		failed(t, cairnctl(t, url, append([]string{"bucket", "props"}, args...)...),
			`404 Not Found: node: unknown bucket type: "nope"`)
	}
	failed(t, cairnctl(t, url, "-o", "json", "bucket", "props", "get", "nope", "b"), `node: unknown bucket type: "nope"`)
	failed(t, cairnctl(t, url, "bucket", "props", "set", "default", "b", `{"n_val":0}`),
		"400 Bad Request: node: invalid bucket properties: n_val must be between 1 and")
	failed(t, cairnctl(t, url, "bucket", "props", "set", "default", "b", `{"colour":"red"}`), `unknown property "colour"`)
	failed(t, cairnctl(t, url, "bucket", "props", "set", "default", "b", `n_val=3`), "props must be a JSON object")
	failed(t, cairnctl(t, url, "bucket", "props", "set", "default", "b"), "accepts 3 arg(s), received 2")
	failed(t, cairnctl(t, url, "bucket", "props", "get", "default"), "accepts 2 arg(s), received 1")
	failed(t, cairnctl(t, url, "bucket", "props", "frob"), `unknown command "frob" for "cairnctl bucket props"`)
	failed(t, cairnctl(t, "127.0.0.1:1", "bucket", "props", "get", "default", "b"),
		"cannot connect to the cairn node at http://127.0.0.1:1", "connection refused")
}
