// Command cairnctl administers a cairn cluster through a node's admin
// HTTP API (/admin/…): the Raft group, ring changes (stage, plan, commit,
// as riak-admin cluster), the ring, partition transfers (list, pause,
// resume, cancel), active anti-entropy (status, enable, disable, window),
// and bucket types.
//
//	cairnctl --node 10.0.0.1:8098 cluster join n4
//	cairnctl cluster plan
//	cairnctl cluster commit
//	cairnctl ring-status
//	cairnctl aae-status
//	cairnctl -o json ring
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
