package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	kv "github.com/cairnkv/cairn/client"
	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/node"
)

// dataEpoch is the fake time of serveData's node: the last-modified
// times, vtags and contexts it hands out are the same on every run.
var dataEpoch = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// serveData runs a standalone node's HTTP API on a fake clock, with the
// bucket type "maps" (n_val 2) besides default, and returns its URL.
func serveData(t *testing.T) string {
	t.Helper()
	_, api := startNode(t, func(cfg *node.Config) {
		cfg.Clock = clock.NewFake(dataEpoch)
		withMaps(cfg)
	}, nil)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv.URL
}

// piped runs cairnctl against url with stdin.
func piped(t *testing.T, url string, stdin []byte, args ...string) result {
	t.Helper()
	return invocation{stdin: bytes.NewReader(stdin)}.run(t, append([]string{"--node", url}, args...)...)
}

// contextLine is the value of get's "context: " line.
func contextLine(t *testing.T, out string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if c, ok := strings.CutPrefix(l, "context: "); ok && c != "" {
			return c
		}
	}
	t.Fatalf("no context line in\n%s", out)
	return ""
}

func TestPutGetText(t *testing.T) {
	url := serveData(t)
	out := ok(t, cairnctl(t, url, "put", "default", "users", "ada", "Ada Lovelace"))
	if want := "stored default/users/ada; 'cairnctl get default users ada' shows it with its context\n"; out != want {
		t.Errorf("put: %q", out)
	}
	out = ok(t, cairnctl(t, url, "get", "default", "users", "ada"))
	for _, want := range []string{
		"default/users/ada: 1 sibling\ncontext: ",
		"\nsibling 1:\n  content-type:  text/plain\n  last-modified: 2025-01-02T03:04:05Z\n  vtag:          ",
		"\n  value:         Ada Lovelace\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("get does not show %q:\n%s", want, out)
		}
	}
	contextLine(t, out)
	if out := ok(t, cairnctl(t, url, "get", "default", "users", "ada", "--raw")); out != "Ada Lovelace" {
		t.Errorf("--raw: %q", out)
	}

	// The request flags reach the node, which takes them.
	ok(t, cairnctl(t, url, "put", "maps", "m", "k", "v", "--w", "all", "--dw", "one", "--pw", "0"))
	ok(t, cairnctl(t, url, "get", "maps", "m", "k", "--r", "2", "--pr", "default", "--notfound-ok", "false", "--basic-quorum", "true"))
	ok(t, cairnctl(t, url, "delete", "maps", "m", "k", "--rw", "QUORUM", "--r", "1", "--w", "all"))
}

func TestPutGetBinary(t *testing.T) {
	url := serveData(t)
	bin := []byte{0, 1, 2, 0xff, 0xfe, 'x'}
	if out := ok(t, piped(t, url, bin, "put", "default", "blobs", "b1", "-")); !strings.HasPrefix(out, "stored default/blobs/b1;") {
		t.Errorf("put: %q", out)
	}
	out := ok(t, cairnctl(t, url, "get", "default", "blobs", "b1"))
	for _, want := range []string{"  content-type:  application/octet-stream\n", "  value:         <6 bytes, binary>\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("get does not show %q:\n%s", want, out)
		}
	}
	if out := ok(t, cairnctl(t, url, "get", "default", "blobs", "b1", "--raw")); out != string(bin) {
		t.Errorf("--raw: %q, want %q", out, bin)
	}
	o := decodeJSON[objectJSON](t, ok(t, cairnctl(t, url, "-o", "json", "get", "default", "blobs", "b1")))
	if len(o.Siblings) != 1 || o.Siblings[0].Value != nil || !bytes.Equal(o.Siblings[0].ValueBase64, bin) {
		t.Errorf("json: %+v", o)
	}
	// Text with a control character is shown as binary too: printing it
	// could drive the terminal.
	ok(t, cairnctl(t, url, "put", "default", "blobs", "esc", "\x1b[2Jboo"))
	if out := ok(t, cairnctl(t, url, "get", "default", "blobs", "esc")); !strings.Contains(out, "<7 bytes, binary>") {
		t.Errorf("escape sequence shown as text:\n%s", out)
	}
}

func TestPutFromFile(t *testing.T) {
	url := serveData(t)
	path := filepath.Join(t.TempDir(), "report.csv")
	if err := os.WriteFile(path, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ok(t, cairnctl(t, url, "put", "default", "reports", "q3", "--file", path, "--content-type", "text/csv"))
	if out := ok(t, cairnctl(t, url, "get", "default", "reports", "q3", "--raw")); out != "a,b\n1,2\n" {
		t.Errorf("--raw: %q", out)
	}
	out := ok(t, cairnctl(t, url, "get", "default", "reports", "q3"))
	if want := "  content-type:  text/csv\n"; !strings.Contains(out, want) {
		t.Errorf("get does not show %q:\n%s", want, out)
	}
	// A multi-line text value is shown indented under its label.
	if want := "  value:\n    a,b\n    1,2\n"; !strings.Contains(out, want) {
		t.Errorf("get does not show %q:\n%s", want, out)
	}

	// A file, or --file -, is binary unless told otherwise.
	ok(t, cairnctl(t, url, "put", "default", "reports", "q4", "--file", path))
	ok(t, piped(t, url, []byte("from stdin"), "put", "default", "reports", "q5", "--file", "-", "--meta", "Team=ops", "--meta", "note=a=b"))
	for key, want := range map[string]siblingJSON{
		"q4": {ContentType: "application/octet-stream", Meta: map[string]string{}},
		"q5": {ContentType: "application/octet-stream", Meta: map[string]string{"team": "ops", "note": "a=b"}},
	} {
		o := decodeJSON[objectJSON](t, ok(t, cairnctl(t, url, "-o", "json", "get", "default", "reports", key)))
		s := o.Siblings[0]
		if s.ContentType != want.ContentType || len(s.Meta) != len(want.Meta) || s.Meta["team"] != want.Meta["team"] || s.Meta["note"] != want.Meta["note"] {
			t.Errorf("%s: %+v, want %+v", key, s, want)
		}
	}
}

// TestSiblings writes three siblings blind, shows them, and resolves them
// with a put that carries the get's context.
func TestSiblings(t *testing.T) {
	url := serveData(t)
	// Links cannot be written with cairnctl: write one with the client.
	cfg := kv.DefaultLocalConfig()
	cfg.Nodes = []string{url}
	c, err := kv.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	loc := kv.Location{Type: "default", Bucket: "carts", Key: "bob"}
	first := kv.NewObject(loc, []byte("apples"), "text/plain")
	first.Siblings[0].Charset = "utf-8"
	first.Siblings[0].Meta = map[string]string{"colour": "red", "Owner": "bob"}
	first.Siblings[0].Links = []kv.Link{{Bucket: "users", Key: "bob", Tag: "owner"}}
	if _, err := c.Put(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	ok(t, cairnctl(t, url, "put", "default", "carts", "bob", "pears\nplums\n"))
	ok(t, piped(t, url, []byte{0xca, 0xfe}, "put", "default", "carts", "bob", "-"))

	out := ok(t, cairnctl(t, url, "get", "default", "carts", "bob"))
	golden(t, "get-siblings.golden", out)
	causal := contextLine(t, out)

	failed(t, cairnctl(t, url, "get", "default", "carts", "bob", "--raw"),
		"default/carts/bob has 3 siblings: --raw prints one value")

	js := ok(t, cairnctl(t, url, "-o", "json", "get", "default", "carts", "bob"))
	o := decodeJSON[objectJSON](t, js)
	if o.Type != "default" || o.Bucket != "carts" || o.Key != "bob" || o.Context != causal || len(o.Siblings) != 3 {
		t.Fatalf("json: %+v", o)
	}
	s := o.Siblings[0]
	if s.Value == nil || *s.Value != "apples" || s.ValueBase64 != nil || s.Charset != "utf-8" ||
		s.Meta["owner"] != "bob" || len(s.Links) != 1 || s.Links[0] != (linkJSON{"users", "bob", "owner"}) ||
		s.LastModified != "2025-01-02T03:04:05Z" || s.VTag == "" {
		t.Errorf("json sibling 1: %+v", s)
	}
	if s := o.Siblings[2]; s.Value != nil || !bytes.Equal(s.ValueBase64, []byte{0xca, 0xfe}) {
		t.Errorf("json sibling 3: %+v", s)
	}
	requireFields(t, js, "type", "bucket", "key", "context", "siblings.0.value", "siblings.0.content_type",
		"siblings.0.charset", "siblings.0.content_encoding", "siblings.0.last_modified", "siblings.0.vtag",
		"siblings.0.meta", "siblings.0.links", "siblings.2.value_base64")

	// The context supersedes all three.
	ok(t, cairnctl(t, url, "put", "default", "carts", "bob", "apples,pears,plums", "--context", causal))
	out = ok(t, cairnctl(t, url, "get", "default", "carts", "bob"))
	if !strings.HasPrefix(out, "default/carts/bob: 1 sibling\n") || !strings.Contains(out, "  value:         apples,pears,plums\n") {
		t.Errorf("after resolving:\n%s", out)
	}
	if ok(t, cairnctl(t, url, "get", "default", "carts", "bob", "--raw")) != "apples,pears,plums" {
		t.Errorf("--raw after resolving")
	}

	// A blind write adds a sibling again; --return-body shows both.
	out = ok(t, cairnctl(t, url, "put", "default", "carts", "bob", "figs", "--return-body"))
	if !strings.HasPrefix(out, "default/carts/bob: 2 siblings\ncontext: ") || !strings.Contains(out, "value:         figs\n") {
		t.Errorf("put --return-body:\n%s", out)
	}
	o = decodeJSON[objectJSON](t, ok(t, cairnctl(t, url, "-o", "json", "put", "default", "carts", "bob", "kiwis", "--return-body")))
	if len(o.Siblings) != 3 || o.Context == "" {
		t.Errorf("put --return-body -o json: %+v", o)
	}
	// Without --return-body the node sends nothing back.
	o = decodeJSON[objectJSON](t, ok(t, cairnctl(t, url, "-o", "json", "put", "default", "carts", "ann", "x")))
	if o.Key != "ann" || o.Context != "" || o.Siblings == nil || len(o.Siblings) != 0 {
		t.Errorf("put -o json: %+v", o)
	}
}

func TestDelete(t *testing.T) {
	url := serveData(t)
	ok(t, cairnctl(t, url, "put", "default", "users", "ada", "Ada"))
	causal := contextLine(t, ok(t, cairnctl(t, url, "get", "default", "users", "ada")))
	if out := ok(t, cairnctl(t, url, "delete", "default", "users", "ada", "--context", causal)); out != "deleted default/users/ada\n" {
		t.Errorf("delete: %q", out)
	}

	// The tombstone's context is printed, with the error.
	r := cairnctl(t, url, "get", "default", "users", "ada")
	tomb := contextLine(t, r.stdout)
	if r.code != 1 || r.stdout != "context: "+tomb+"\n" || tomb == causal ||
		r.stderr != "cairnctl: not found: default/users/ada was deleted; its context is on stdout, for put --context\n" {
		t.Errorf("get after delete: %+v", r)
	}
	r = cairnctl(t, url, "-o", "json", "get", "default", "users", "ada")
	if o := decodeJSON[objectJSON](t, r.stdout); r.code != 1 || o.Context != tomb || o.Siblings == nil || len(o.Siblings) != 0 {
		t.Errorf("get -o json after delete: %+v, %+v", r, o)
	}
	failed(t, cairnctl(t, url, "get", "default", "users", "ada", "--raw"), "not found: default/users/ada was deleted")

	// A put over the delete with its context.
	ok(t, cairnctl(t, url, "put", "default", "users", "ada", "Ada again", "--context", tomb))
	if out := ok(t, cairnctl(t, url, "get", "default", "users", "ada")); !strings.HasPrefix(out, "default/users/ada: 1 sibling\n") {
		t.Errorf("after a put over the delete:\n%s", out)
	}
	if out := ok(t, cairnctl(t, url, "-o", "json", "delete", "default", "users", "ada")); out != "" {
		t.Errorf("delete -o json printed %q", out)
	}

	failed(t, cairnctl(t, url, "delete", "default", "users", "nobody"), "not found: default/users/nobody")
	failed(t, cairnctl(t, url, "get", "default", "users", "nobody"), "not found: default/users/nobody")
	failed(t, cairnctl(t, url, "-o", "json", "get", "default", "users", "nobody"), "not found: default/users/nobody")
}

func TestListKeys(t *testing.T) {
	url := serveData(t)
	keys := []string{"a", "b c", "x/y", "ü+1"}
	for _, k := range keys {
		ok(t, cairnctl(t, url, "put", "default", "letters", k, "v"))
	}
	ok(t, cairnctl(t, url, "put", "default", "other", "z", "v"))

	out := ok(t, cairnctl(t, url, "list-keys", "default", "letters"))
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	slices.Sort(got)
	if !slices.Equal(got, keys) {
		t.Errorf("list-keys: %q, want %q", got, keys)
	}
	got = decodeJSON[[]string](t, ok(t, cairnctl(t, url, "-o", "json", "list-keys", "default", "letters")))
	slices.Sort(got)
	if !slices.Equal(got, keys) {
		t.Errorf("list-keys -o json: %q, want %q", got, keys)
	}

	if out := ok(t, cairnctl(t, url, "list-keys", "default", "empty")); out != "" {
		t.Errorf("empty bucket: %q", out)
	}
	if out := ok(t, cairnctl(t, url, "-o", "json", "list-keys", "default", "empty")); out != "[]\n" {
		t.Errorf("empty bucket -o json: %q", out)
	}

	help := ok(t, cairnctl(t, url, "list-keys", "--help"))
	if !strings.Contains(help, "WARNING: listing keys scans every partition of every node in the cluster") {
		t.Errorf("list-keys --help has no warning:\n%s", help)
	}
}

func TestDataErrors(t *testing.T) {
	url := serveData(t)
	ok(t, cairnctl(t, url, "put", "default", "b", "k", "v"))
	for _, args := range [][]string{
		{"get", "nope", "b", "k"},
		{"put", "nope", "b", "k", "v"},
		{"delete", "nope", "b", "k"},
		{"list-keys", "nope", "b"},
	} {
		failed(t, cairnctl(t, url, args...), `404 Not Found: node: unknown bucket type: "nope"`)
	}
	badQuorum := `for "--r" flag: want one, quorum, all, default or a number`
	failed(t, cairnctl(t, url, "get", "default", "b", "k", "--r", "most"), `invalid argument "most"`, badQuorum)
	failed(t, cairnctl(t, url, "get", "default", "b", "k", "--r", "-1"), badQuorum)
	failed(t, cairnctl(t, url, "put", "default", "b", "k", "v", "--w", "two"), `for "--w" flag`)
	failed(t, cairnctl(t, url, "get", "default", "b", "k", "--notfound-ok", "maybe"), "want true, false or default")
	failed(t, cairnctl(t, url, "get", "maps", "b", "k", "--r", "3"), "400 Bad Request:", "exceeds n_val 2")
	failed(t, cairnctl(t, url, "put", "maps", "b", "k", "v", "--w", "3"), "400 Bad Request:", "exceeds n_val 2")
	failed(t, cairnctl(t, url, "put", "default", "b", "k", "v", "--context", "not-a-context"), "400 Bad Request:")
	failed(t, cairnctl(t, url, "put", "default", "b", "k", "v", "--if-none-match"), "412 Precondition Failed:")
	failed(t, cairnctl(t, url, "-o", "json", "get", "default", "b", "k", "--raw"), "--raw and -o json: choose one")
	failed(t, cairnctl(t, url, "put", "default", "b", "k"), "no value: give it as an argument, - for stdin, or --file FILE")
	failed(t, cairnctl(t, url, "put", "default", "b", "k", "v", "--file", "f"), "not both")
	failed(t, cairnctl(t, url, "put", "default", "b", "k", "--file", filepath.Join(t.TempDir(), "none")), "--file: open ")
	failed(t, cairnctl(t, url, "put", "default", "b", "k", "v", "--meta", "colour"), `--meta "colour": want NAME=VALUE`)
	failed(t, cairnctl(t, url, "put", "default", "b", "k", "v", "--meta", "a b=c"), "not an HTTP token")
	failed(t, cairnctl(t, url, "get", "default", "b"), "accepts 3 arg(s), received 2")
	failed(t, cairnctl(t, url, "-o", "yaml", "get", "default", "b", "k"), `--output "yaml"`)
	addr := closedAddr(t)
	failed(t, cairnctl(t, addr, "get", "default", "b", "k"), "cannot connect to the cairn node at http://"+addr, "connection refused")
	failed(t, cairnctl(t, addr, "list-keys", "default", "b"), "cannot connect to the cairn node at http://"+addr)
}

func TestQuorumValue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want kv.Quorum
		ok   bool
	}{
		{"one", kv.One, true},
		{"QUORUM", kv.QuorumMajority, true},
		{" all ", kv.All, true},
		{"default", kv.DefaultQuorum, true},
		{"0", kv.Q(0), true},
		{"5", kv.Q(5), true},
		{"-1", "", false},
		{"two", "", false},
		{"", "", false},
		{"1.5", "", false},
	} {
		q := kv.Quorum("unset")
		err := quorumValue{&q}.Set(tc.in)
		switch {
		case tc.ok && (err != nil || q != tc.want):
			t.Errorf("Set(%q) = %q, %v; want %q", tc.in, q, err, tc.want)
		case !tc.ok && err == nil:
			t.Errorf("Set(%q) = %q, want an error", tc.in, q)
		}
	}
}

func TestIsText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"", true},
		{"plain", true},
		{"tab\tand\r\nlines\n", true},
		{"ünïcødé ✓", true},
		{"nul\x00", false},
		{"\x1b[31mred", false},
		{"\u009b31m", false}, // a C1 control
		{"\xff\xfe", false},
	} {
		if got := isText([]byte(tc.in)); got != tc.want {
			t.Errorf("isText(%q) = %v", tc.in, got)
		}
	}
}

func TestDataCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		// Not --r: cobra takes a one-letter flag name for a shorthand when
		// it completes, and finds no flag.
		{[]string{"__complete", "get", "default", "b", "k", "--pr", ""}, []string{"one", "quorum", "all", "default"}},
		{[]string{"__complete", "get", "default", "b", "k", "--notfound-ok", ""}, []string{"true", "false", "default"}},
		{[]string{"__complete", "li"}, []string{"list-keys\t"}},
	} {
		r := invocation{}.run(t, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains("\n"+r.stdout, "\n"+w) {
				t.Errorf("%v: no %q in\n%s", tc.args, w, r.stdout)
			}
		}
	}
}
