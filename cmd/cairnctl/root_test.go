package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNodeURL(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"http://127.0.0.1:8098", "http://127.0.0.1:8098", ""},
		{"127.0.0.1:8098", "http://127.0.0.1:8098", ""},
		{"node1:8098/", "http://node1:8098", ""},
		{" https://cairn.example.com/ ", "https://cairn.example.com", ""},
		{"http://proxy:80/cairn/", "http://proxy:80/cairn", ""},
		{"[::1]:8098", "http://[::1]:8098", ""},
		{"", "", "--node is empty"},
		{"ftp://x:1", "", "scheme must be http or https"},
		{"http://", "", "no host"},
		{"x:1?a=b", "", "no query"},
	} {
		got, err := nodeURL(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("nodeURL(%q) error %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("nodeURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNodeFromEnvironment(t *testing.T) {
	url := serve(t, fixture())
	hostPort := strings.TrimPrefix(url, "http://")
	inv := invocation{env: map[string]string{"CAIRN_NODE": hostPort}}
	if out := ok(t, inv.run(t, "raft", "status")); !strings.HasPrefix(out, "leader:") {
		t.Errorf("stdout %q", out)
	}
	// --node wins over the environment.
	inv.env["CAIRN_NODE"] = "127.0.0.1:1"
	ok(t, inv.run(t, "--node", hostPort, "raft", "status"))
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestConnectionRefused(t *testing.T) {
	addr := closedAddr(t)
	failed(t, cairnctl(t, addr, "cluster", "status"),
		"cannot connect to the cairn node at http://"+addr, "connection refused", "--node", "CAIRN_NODE")
	failed(t, invocation{}.run(t, "--node", "", "ring"), "--node is empty")
}

func TestDefaultNode(t *testing.T) {
	none := func(string) string { return "" }
	if got := newRootCommand(io.Discard, io.Discard, none).PersistentFlags().Lookup("node").DefValue; got != "http://127.0.0.1:8098" {
		t.Errorf("default --node %q", got)
	}
	env := func(k string) string { return map[string]string{"CAIRN_NODE": "n1:8098"}[k] }
	if got := newRootCommand(io.Discard, io.Discard, env).PersistentFlags().Lookup("node").DefValue; got != "n1:8098" {
		t.Errorf("--node from CAIRN_NODE %q", got)
	}
}

func TestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers; returns once the client gives up
	}))
	defer srv.Close()
	failed(t, cairnctl(t, srv.URL, "--timeout", "50ms", "raft", "status"), "no answer from the cairn node at "+srv.URL+" within 50ms", "--timeout")
}

func TestNonJSONErrorAnswer(t *testing.T) {
	// A node without the admin API, or a proxy, answers text.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not found", http.StatusNotFound)
	}))
	defer srv.Close()
	failed(t, cairnctl(t, srv.URL, "ring"), "cairnctl: 404 Not Found: not found")
}

func TestBadGlobalFlags(t *testing.T) {
	url := serve(t, fixture())
	failed(t, cairnctl(t, url, "-o", "yaml", "ring"), `--output "yaml": want table or json`)
	failed(t, cairnctl(t, url, "--timeout", "0s", "ring"), "--timeout 0s: must be positive")
	failed(t, cairnctl(t, url, "--bogus", "ring"), "unknown flag: --bogus")
	failed(t, cairnctl(t, "ftp://x", "ring"), "scheme must be http or https")
}

func TestUnknownCommands(t *testing.T) {
	url := serve(t, fixture())
	failed(t, cairnctl(t, url, "frobnicate"), `unknown command "frobnicate" for "cairnctl"`)
	failed(t, cairnctl(t, url, "cluster", "frobnicate"), `unknown command "frobnicate" for "cairnctl cluster"`)
	failed(t, cairnctl(t, url, "ring", "extra"), `unknown command "extra" for "cairnctl ring"`)
}

func TestGroupsPrintHelp(t *testing.T) {
	url := serve(t, fixture())
	for _, g := range []string{"raft", "cluster", "bucket-type"} {
		out := ok(t, cairnctl(t, url, g))
		if !strings.Contains(out, "Available Commands:") {
			t.Errorf("%s: stdout %q, want help", g, out)
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	url := serve(t, fixture())
	getenv := func(string) string { return "" }
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--node", url, "ring"}, nil, &stdout, &stderr, getenv); code != 0 || stderr.Len() != 0 {
		t.Errorf("ring: exit %d, stderr %q", code, stderr.String())
	}
	stdout.Reset()
	code := run(context.Background(), []string{"--node", url, "bucket-type", "status", "nope"}, nil, &stdout, &stderr, getenv)
	if code != 1 || stderr.String() != "cairnctl: node: unknown bucket type: \"nope\"\n" || stdout.Len() != 0 {
		t.Errorf("exit %d, stderr %q, stdout %q", code, stderr.String(), stdout.String())
	}
	stderr.Reset()
	if code := run(context.Background(), nil, nil, &stdout, &stderr, getenv); code != 0 || !strings.Contains(stdout.String(), "Usage:") {
		t.Errorf("no args: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
