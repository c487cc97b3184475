package main

import (
	"encoding/json"
	"maps"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/node"
)

// serveBench runs a standalone node's HTTP API with the consistent
// bucket type "sc" besides default, and returns its URL.
func serveBench(t *testing.T) string {
	t.Helper()
	sc := node.DefaultProps()
	sc.Consistent = true
	sc.AllowMult = false
	md := node.NewMemMetadata(clock.Real{}, node.DefaultProps(), map[string]node.Props{"sc": sc})
	_, api := startNode(t, nil, md)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv.URL
}

// lwwBucket makes bucket of the default type last-write-wins, as YCSB's
// Riak binding asks.
func lwwBucket(t *testing.T, url, bucket string) {
	t.Helper()
	ok(t, cairnctl(t, url, "bucket", "props", "set", "default", bucket, `{"allow_mult":false}`))
}

// smallBench is a bench of a few hundred operations.
func smallBench(url string, args ...string) []string {
	return append([]string{"--node", url, "-o", "json", "bench", "--records", "200", "--ops", "300", "--clients", "4",
		"--value-size", "32", "--duration", "30s"}, args...)
}

func TestBenchWorkloads(t *testing.T) {
	url := serveBench(t)
	for _, w := range benchWorkloads {
		t.Run(w.name, func(t *testing.T) {
			bucket := "w-" + w.name
			lwwBucket(t, url, bucket)
			rep := decodeJSON[benchReport](t, ok(t, invocation{}.run(t, smallBench(url, "--workload", w.name, "--bucket", bucket, "--load")...)))
			c := rep.Config
			if rep.Version != 1 || c.Workload != w.name || c.Distribution != w.keys || c.Records != 200 || c.Ops != 300 ||
				c.Clients != 4 || c.ValueSize != 32 || c.Type != "default" || c.Bucket != bucket || c.ReadQuorum != "default" ||
				c.Rate != 0 || c.CoordinatedOmissionCorrection || c.Seed != 1 || !c.Load || c.SkipRun || c.DurationSec != 30 ||
				len(c.Nodes) != 1 || c.Nodes[0] != url || c.TimeoutSec != 10 || c.Consistent || c.AllowMult {
				t.Errorf("config %+v", c)
			}
			if len(rep.Phases) != 2 {
				t.Fatalf("%d phases", len(rep.Phases))
			}
			load, run := rep.Phases[0], rep.Phases[1]
			if load.Name != "load" || load.StoppedBy != stopLimit || len(load.Ops) != 1 || load.Ops[0].Op != "insert" ||
				load.Total.Count != 200 || load.Total.Errors != 0 || load.Total.OpsPerSec <= 0 || load.FirstError != "" {
				t.Errorf("load %+v", load)
			}
			if run.Name != "run" || run.StoppedBy != stopLimit || run.Total.Count != 300 || run.Total.Errors != 0 || run.FirstError != "" {
				t.Errorf("run %+v", run)
			}
			var ops []string
			for _, o := range run.Ops {
				ops = append(ops, o.Op)
				l := o.LatencyMS
				share := float64(o.Count) / float64(run.Total.Count)
				// 300 operations: the mix within a wide margin.
				if want := c.Mix[o.Op]; share < want-0.15 || share > want+0.15 {
					t.Errorf("%s: %d of %d operations, want a share of %g", o.Op, o.Count, run.Total.Count, want)
				}
				if o.Count > 0 && (o.OpsPerSec <= 0 || l.P50 <= 0 || l.P50 > l.P95 || l.P95 > l.P99 || l.P99 > l.P999 || l.P999 > l.Max) {
					t.Errorf("%s: %+v", o.Op, o)
				}
			}
			if want := slices.Sorted(maps.Keys(c.Mix)); !slices.Equal(slices.Sorted(slices.Values(ops)), want) {
				t.Errorf("operations %v, want %v", ops, want)
			}
		})
	}
}

func TestBenchConsistentType(t *testing.T) {
	url := serveBench(t)
	// Updates read first and write with the context; reads, inserts and
	// read-modify-writes as on any bucket. Two clients writing the same
	// key may conflict: that is counted, never anything else.
	for _, w := range []string{"a", "d", "f"} {
		rep := decodeJSON[benchReport](t, ok(t, invocation{}.run(t, smallBench(url, "--type", "sc", "--bucket", "b"+w, "--workload", w, "--load")...)))
		if !rep.Config.Consistent || rep.Config.AllowMult {
			t.Errorf("%s: config %+v", w, rep.Config)
		}
		for _, p := range rep.Phases {
			e := p.Total.ErrorsByKind
			if p.Total.Errors != e.Conflict || p.Total.Count-p.Total.Errors < p.Total.Count/2 {
				t.Errorf("%s %s: %+v", w, p.Name, p.Total)
			}
		}
	}
	failed(t, invocation{}.run(t, smallBench(url, "--type", "sc", "--workload", "put-only")...),
		"workload put-only sends blind puts", `consistent bucket type "sc"`)
}

func TestBenchTable(t *testing.T) {
	url := serveBench(t)
	lwwBucket(t, url, "t")
	out := ok(t, cairnctl(t, url, "bench", "--bucket", "t", "--records", "100", "--ops", "200", "--clients", "2", "--load",
		"--read-quorum", "one", "--write-quorum", "all", "--rate", "2000"))
	for _, want := range []string{
		"workload a (read 50%, update 50%), zipfian keys over 100 records, 2 clients, 100-byte values, default/t, r=one w=all, " +
			"2000 ops/s target, latency from each operation's due time, seed 1\n\nload: 100 operations in ",
		"s, every record inserted\nOP      COUNT  ERRORS  OPS/S  P50 MS  P95 MS  P99 MS  P99.9 MS  MAX MS\ninsert  100    0       ",
		"errors: none\n\nrun: 200 operations in ",
		"s, stopped at --ops\nOP      COUNT  ERRORS  OPS/S  P50 MS  P95 MS  P99 MS  P99.9 MS  MAX MS\nread    ",
		"\nupdate  ", "\ntotal   200    0       ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "errors: none\n") {
		t.Errorf("the table does not end with the errors:\n%s", out)
	}
}

func TestBenchReportsErrors(t *testing.T) {
	url := serveBench(t)
	// Nothing loaded: every read misses. The report is printed, and bench
	// exits 1.
	r := invocation{}.run(t, smallBench(url, "--workload", "c", "--bucket", "empty")...)
	const want = "cairnctl: every operation of the run phase failed; the first: client: GET /types/default/buckets/empty/keys/user"
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "404 Not Found") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	rep := decodeJSON[benchReport](t, r.stdout)
	if p := rep.Phases[0]; p.Total.Count != 300 || p.Total.ErrorsByKind.NotFound != 300 || p.Ops[0].LatencyMS != (latencyPercent{}) {
		t.Errorf("run %+v", p)
	}

	// Blind writes on a bucket that keeps siblings: a warning.
	r = invocation{}.run(t, smallBench(url, "--bucket", "mult", "--load")...)
	if r.code != 0 || !strings.Contains(r.stderr, "cairnctl: warning: default/mult has allow_mult true") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}

	failed(t, cairnctl(t, url, "bench", "--type", "nosuch"), "reading the properties of nosuch/ycsb", "unknown bucket type")
}

func TestBenchBounds(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--duration", "0s"}, "--duration 0s: want more than 0 and at most 1h0m0s; every run is bounded in time"},
		{[]string{"--duration", "2h"}, "--duration 2h0m0s: want more than 0"},
		{[]string{"--ops", "0"}, "--ops 0: want 1 to 1000000000; every run is bounded in operations"},
		{[]string{"--ops", "2000000000"}, "--ops 2000000000: want 1 to"},
		{[]string{"--records", "0"}, "--records 0: want 1 to 100000000"},
		{[]string{"--records", "1000000000"}, "--records 1000000000: want 1 to"},
		{[]string{"--clients", "0"}, "--clients 0: want 1 to 1024"},
		{[]string{"--clients", "5000"}, "--clients 5000"},
		{[]string{"--value-size", "-1"}, "--value-size -1"},
		{[]string{"--value-size", "100000000"}, "--value-size 100000000"},
		{[]string{"--rate", "-5"}, "--rate -5"},
		{[]string{"--rate", "0.001"}, "each client would wait longer than 1h0m0s"},
		{[]string{"--workload", "e"}, `--workload "e": want one of a, b, c, d, f, put-only`},
		{[]string{"--distribution", "pareto"}, `--distribution "pareto"`},
		{[]string{"--skip-run"}, "--skip-run without --load: nothing to do"},
		{[]string{"--bucket", ""}, "--bucket is empty"},
		{[]string{"--read-quorum", "most"}, "want one, quorum, all, default or a number"},
	} {
		// Refused before anything is sent: no node listens there.
		failed(t, cairnctl(t, "127.0.0.1:1", append([]string{"bench"}, tc.args...)...), tc.want)
	}
}

// TestBenchJSONShape pins every key of bench's -o json: scripts read it,
// so a key is never renamed or dropped.
func TestBenchJSONShape(t *testing.T) {
	url := serveBench(t)
	lwwBucket(t, url, "shape")
	out := ok(t, invocation{}.run(t, smallBench(url, "--bucket", "shape", "--load", "--rate", "5000")...))
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	var keys []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if prefix == ".config.mix" {
					k = "OP" // the operations of the workload
				}
				keys = append(keys, prefix+"."+k)
				walk(prefix+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(prefix+"[]", x)
			}
		}
	}
	walk("", v)
	sort.Strings(keys)
	keys = slices.Compact(keys)
	want := []string{
		".config", ".config.allow_mult", ".config.bucket", ".config.clients", ".config.consistent",
		".config.coordinated_omission_correction", ".config.distribution", ".config.duration_sec", ".config.load",
		".config.mix", ".config.mix.OP", ".config.nodes", ".config.ops", ".config.rate", ".config.read_quorum",
		".config.records", ".config.seed", ".config.skip_run", ".config.timeout_sec", ".config.type",
		".config.value_size", ".config.workload", ".config.write_quorum",
		".phases",
	}
	for _, op := range []string{".phases[].ops[]", ".phases[].total"} {
		want = append(want, op+".count", op+".errors", op+".errors_by_kind",
			op+".errors_by_kind.conflict", op+".errors_by_kind.not_found", op+".errors_by_kind.other",
			op+".errors_by_kind.quorum", op+".errors_by_kind.timeout", op+".errors_by_kind.unavailable",
			op+".latency_ms", op+".latency_ms.max", op+".latency_ms.p50", op+".latency_ms.p95",
			op+".latency_ms.p99", op+".latency_ms.p99_9", op+".op", op+".ops_per_sec")
	}
	want = append(want, ".phases[].elapsed_sec", ".phases[].first_error", ".phases[].name", ".phases[].ops",
		".phases[].stopped_by", ".phases[].total", ".version")
	sort.Strings(want)
	want = slices.Compact(want)
	if !slices.Equal(keys, want) {
		t.Errorf("keys:\n%s\nwant\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
	rep := decodeJSON[benchReport](t, out)
	if !rep.Config.CoordinatedOmissionCorrection || rep.Config.Rate != 5000 {
		t.Errorf("config %+v", rep.Config)
	}
}

func TestBenchCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "bench", "--workload", ""}, []string{"a", "b", "c", "d", "f", "put-only"}},
		{[]string{"__complete", "bench", "--distribution", ""}, []string{"uniform", "zipfian", "latest"}},
		{[]string{"__complete", "bench", "--read-quorum", ""}, []string{"one", "quorum", "all", "default"}},
		{[]string{"__complete", "bench", "--write-"}, []string{"--write-quorum\t"}},
	} {
		r := invocation{}.run(t, tc.args...)
		got := strings.Split(strings.TrimSpace(r.stdout), "\n")
		got = got[:len(got)-1] // the directive
		for i, w := range tc.want {
			if i >= len(got) || !strings.HasPrefix(got[i], w) {
				t.Errorf("%v: %q, want %q", tc.args, got, tc.want)
				break
			}
		}
	}
}
