// Command cairnctl administers a cairn cluster through a node's admin
// HTTP API (/admin/…): the Raft group, the members (cluster status,
// member-status), ring changes (stage, plan, commit, as riak-admin
// cluster), the ring (summary, and partition by partition with ring
// show), partition transfers (list, pause, resume, cancel), active
// anti-entropy (status, enable, disable, window), and bucket types; and,
// through the node's Riak HTTP API (package client), bucket properties
// (bucket props) and data: get, put, delete and list-keys, with siblings
// and the causal context shown.
// cobra's completion command writes shell completion scripts.
//
//	cairnctl --node 10.0.0.1:8098 cluster join n4
//	cairnctl cluster plan
//	cairnctl cluster commit
//	cairnctl member-status
//	cairnctl ring-status
//	cairnctl aae-status
//	cairnctl bucket props set default users '{"n_val":5}'
//	cairnctl -o json ring
//	source <(cairnctl completion bash)
//
// --node (env CAIRN_NODE) names any node of the cluster; writes go through
// the Raft group from there.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
