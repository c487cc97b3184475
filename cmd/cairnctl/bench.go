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
	"github.com/cairnkv/cairn/clock"
	"github.com/spf13/cobra"
)

// The bench command drives YCSB's core workloads through the Go client
// and reports throughput and latency percentiles per kind of operation.

func newBenchCommand(a *app) *cobra.Command {
	cfg := defaultBenchConfig()
	var nodes []string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark the cluster with YCSB workloads: throughput, latency percentiles, errors",
		Long: "Run YCSB's core workloads against the cluster through the Go client, as an application would.\n\n" +
			"Workloads (--workload):\n" + workloadHelp() + "\n" +
			"read is a Get; insert a Put of a new key; update a blind Put (no context) on an eventually\n" +
			"consistent bucket and, on a consistent one, a Get then a Put with its context (as YCSB's Riak\n" +
			"binding does); rmw a Get then a Put with its context on any bucket; put one blind Put.\n" +
			"Blind writes to a bucket with allow_mult true pile up siblings on hot keys: benchmark a bucket\n" +
			"with allow_mult false, as YCSB's Riak binding does (bench warns otherwise). put-only is refused\n" +
			"on a consistent bucket, which takes no blind write of an existing key.\n\n" +
			"Keys are \"user\" and a 10-digit index; --distribution picks among them: uniform, zipfian (YCSB's\n" +
			"scrambled zipfian, constant 0.99) or latest (the newest keys most often); each workload has\n" +
			"its default (zipfian; latest for d; uniform for put-only). Values are --value-size random\n" +
			"bytes. --seed makes operations, keys and values repeatable. --timeout bounds each operation.\n\n" +
			"--load first inserts --records keys (the load phase); the run phase then runs the workload\n" +
			"over --records keys, unless --skip-run. Each phase stops at --duration (at most 1h), the run\n" +
			"also at --ops (at most 1e9): no run is unbounded. With --rate (operations per second, all\n" +
			"clients together), operations are sent on an even schedule and each latency is measured from\n" +
			"when the operation was due, so a stall counts for every operation queued behind it\n" +
			"(coordinated-omission correction). A status line is shown on stderr every second when it is a\n" +
			"terminal.\n\n" +
			"At the end, per phase, a table per kind of operation: count (errors included), errors, ops/s\n" +
			"and p50/p95/p99/p99.9/max latency in ms (of the successful operations), and errors by kind.\n" +
			"With -o json: {\"version\":1,\"config\":{\"workload\",\"mix\",\"distribution\",\"records\",\"ops\",\n" +
			"\"duration_sec\",\"clients\",\"value_size\",\"type\",\"bucket\",\"read_quorum\",\"write_quorum\",\"rate\",\n" +
			"\"coordinated_omission_correction\",\"seed\",\"load\",\"skip_run\",\"nodes\",\"timeout_sec\",\"consistent\",\n" +
			"\"allow_mult\"},\"phases\":[{\"name\",\"stopped_by\" (limit, duration or interrupted),\"elapsed_sec\",\n" +
			"\"ops\":[{\"op\",\"count\",\"errors\",\"errors_by_kind\":{\"not_found\",\"quorum\",\"conflict\",\"unavailable\",\n" +
			"\"timeout\",\"other\"},\"ops_per_sec\",\"latency_ms\":{\"p50\",\"p95\",\"p99\",\"p99_9\",\"max\"}}],\"total\":{…},\n" +
			"\"first_error\"}]}.\n\n" +
			"bench exits 1 when every operation of a phase failed, or when interrupted (after the report).",
		Example: "  cairnctl bench --load --skip-run --records 100000 --duration 10m\n" +
			"  cairnctl bench --workload a --records 100000 --clients 16 --duration 30s\n" +
			"  cairnctl bench --workload b --rate 5000 --read-quorum one -o json\n" +
			"  cairnctl bench --nodes 127.0.0.1:18098,127.0.0.1:18099,127.0.0.1:18100 --workload c\n" +
			"  cairnctl bench --type sc --workload f --load --records 1000",
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.setup(); err != nil {
				return err
			}
			cfg.Timeout = a.timeout
			cfg.CAFile, cfg.Token = a.ca, a.token
			cfg.Nodes = nodes
			if len(cfg.Nodes) == 0 {
				cfg.Nodes = []string{a.client.base}
			}
			cfg.Workload = strings.ToLower(cfg.Workload)
			if err := cfg.validate(); err != nil {
				return err
			}
			return a.bench(cmd.Context(), cfg, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Workload, "workload", cfg.Workload, "workload: "+workloadNames())
	f.StringVar(&cfg.Distribution, "distribution", "", "key distribution: uniform, zipfian or latest (default: the workload's)")
	f.Int64Var(&cfg.Records, "records", cfg.Records, "keys the load phase inserts and the run phase chooses among")
	f.Int64Var(&cfg.Ops, "ops", cfg.Ops, "most operations of the run phase")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "longest each phase runs (at most 1h)")
	f.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent clients, each with one operation in flight")
	f.IntVar(&cfg.ValueSize, "value-size", cfg.ValueSize, "bytes per value written")
	f.StringVar(&cfg.Type, "type", cfg.Type, "bucket type (a consistent one is benchmarked the same way)")
	f.StringVar(&cfg.Bucket, "bucket", cfg.Bucket, "bucket")
	f.Var(quorumValue{&cfg.ReadQuorum}, "read-quorum", "r of each Get: one, quorum, all, default or a number (default: the bucket's)")
	f.Var(quorumValue{&cfg.WriteQuorum}, "write-quorum", "w of each Put: one, quorum, all, default or a number (default: the bucket's)")
	f.Float64Var(&cfg.Rate, "rate", 0, "target operations per second, all clients together, with latency measured from each operation's due time (0: as fast as the clients go)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the operations, keys and values")
	f.BoolVar(&cfg.Load, "load", false, "run the load phase first: insert --records keys")
	f.BoolVar(&cfg.SkipRun, "skip-run", false, "skip the run phase (with --load: only load)")
	f.StringSliceVar(&nodes, "nodes", nil, "comma-separated HTTP addresses of the nodes to spread requests over (default --node)")
	noFiles := cobra.ShellCompDirectiveNoFileComp
	_ = cmd.RegisterFlagCompletionFunc("workload", cobra.FixedCompletions(strings.Split(workloadNames(), ", "), noFiles))
	_ = cmd.RegisterFlagCompletionFunc("distribution", cobra.FixedCompletions([]string{"uniform", "zipfian", "latest"}, noFiles))
	for _, name := range []string{"read-quorum", "write-quorum"} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions([]string{"one", "quorum", "all", "default"}, noFiles))
	}
	return cmd
}

func workloadHelp() string {
	var b strings.Builder
	for _, w := range benchWorkloads {
		fmt.Fprintf(&b, "  %-9s %s\n", w.name, w.about)
	}
	return b.String()
}

// bench runs cfg's phases and prints the report.
func (a *app) bench(ctx context.Context, cfg benchConfig, stderr io.Writer) error {
	c, err := newBenchKVClient(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	props, err := c.BucketProps(ctx, cfg.Type, cfg.Bucket)
	if err != nil {
		return fmt.Errorf("reading the properties of %s/%s: %w", cfg.Type, cfg.Bucket, a.dataError(err))
	}
	consistent, allowMult := props["consistent"] == true, props["allow_mult"] == true
	wl, _ := findWorkload(cfg.Workload)
	switch {
	case consistent && wl.has(opPut):
		return fmt.Errorf("workload %s sends blind puts, which the consistent bucket type %q refuses for existing keys; "+
			"use workload a (updates read first) or f", wl.name, cfg.Type)
	case !consistent && allowMult && wl.has(opUpdate, opPut):
		fmt.Fprintf(stderr, "cairnctl: warning: %s/%s has allow_mult true: the blind writes of workload %s pile up siblings on "+
			"hot keys; benchmark a bucket with allow_mult false, as YCSB's Riak binding does: "+
			"cairnctl bucket props set %s %s '{\"allow_mult\":false}'\n", cfg.Type, cfg.Bucket, wl.name, cfg.Type, cfg.Bucket)
	}
	r := &benchRunner{
		cfg: cfg, wl: wl, clock: clock.Real{},
		target: &clusterTarget{c: c, typ: cfg.Type, bucket: cfg.Bucket, consistent: consistent,
			read:  []kv.Option{kv.R(cfg.ReadQuorum)},
			write: []kv.Option{kv.W(cfg.WriteQuorum)}},
	}
	if isTerminal(stderr) {
		r.progress = stderr
	}
	rep := benchReport{Version: 1, Config: cfg.report(consistent, allowMult), Phases: []phaseReport{}}
	records := cfg.Records
	if cfg.Load {
		res := r.load(ctx)
		rep.Phases = append(rep.Phases, res.report())
		if res.stoppedBy == stopDuration {
			records = res.issued
			fmt.Fprintf(stderr, "cairnctl: warning: the load phase stopped at --duration %s with %d of %d records; "+
				"the run uses those (load alone with a longer --duration: cairnctl bench --load --skip-run --records %d --duration 10m)\n",
				cfg.Duration, records, cfg.Records, cfg.Records)
		}
	}
	if !cfg.SkipRun && ctx.Err() == nil && records > 0 {
		rep.Phases = append(rep.Phases, r.run(ctx, records).report())
	}
	if err := a.printBench(rep); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	for _, p := range rep.Phases {
		if p.Total.Count > 0 && p.Total.Errors == p.Total.Count {
			return fmt.Errorf("every operation of the %s phase failed; the first: %s", p.Name, p.FirstError)
		}
	}
	return nil
}

func (a *app) printBench(rep benchReport) error {
	if a.jsonOutput() {
		return writeJSON(a.stdout, rep)
	}
	printBenchConfig(a.stdout, rep.Config)
	for _, p := range rep.Phases {
		if err := printPhase(a.stdout, p); err != nil {
			return err
		}
	}
	return nil
}

// newBenchKVClient is a Go client that keeps a connection per client and
// node alive between operations.
func newBenchKVClient(cfg benchConfig) (*kv.Client, error) {
	kc := kv.DefaultConfig()
	kc.Nodes = cfg.Nodes
	kc.Timeout = cfg.Timeout
	kc.Token = cfg.Token
	t := http.DefaultTransport.(*http.Transport).Clone()
	tc, err := loadCA(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		t.TLSClientConfig = tc
	}
	t.MaxIdleConns = cfg.Clients * len(cfg.Nodes)
	t.MaxIdleConnsPerHost = cfg.Clients
	kc.HTTPClient = &http.Client{Transport: t}
	return kv.New(kc)
}

// isTerminal reports whether w is a terminal (a character device), where
// a status line rewritten in place makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
