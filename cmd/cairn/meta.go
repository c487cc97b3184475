package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/internal/hclogslog"
	"github.com/cairnkv/cairn/meta/group"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/rpc"
)

// openMeta opens <data-dir>/raft and starts this node's member of the
// Raft group, which reaches the others through client. The returned func
// closes it, in order.
func openMeta(cfg Config, id string, logger *slog.Logger, nw rpc.Network, client *rpc.Client, httpAddr, rpcAddr, raftAddr, gossipAddr string) (*group.Group, func(), error) {
	stores, err := group.OpenStores(filepath.Join(cfg.DataDir, "raft"), hclogslog.New(logger.With("node", id), "raft"))
	if err != nil {
		return nil, nil, err
	}

	gc := group.DefaultConfig()
	gc.NodeID = id
	gc.RaftAddr = cfg.RaftAddr
	gc.RaftAdvertise = raftAddr
	gc.RPCAddr = rpcAddr
	gc.HTTPAddr = httpAddr
	gc.GossipAddr = gossipAddr
	gc.Bootstrap = cfg.Bootstrap
	if cfg.Join != "" {
		for _, a := range strings.Split(cfg.Join, ",") {
			if a = strings.TrimSpace(a); a != "" {
				gc.Join = append(gc.Join, a)
			}
		}
	}
	gc.Voters = cfg.Voters
	gc.RingSize = cfg.RingSize
	gc.TargetN = cfg.NVal
	gc.DefaultProps = node.DefaultProps()
	gc.DefaultProps.NVal = cfg.NVal
	gc.Clock = clock.Real{}
	gc.Logger = logger
	g, err := group.Open(gc, stores, nw, client)
	if err != nil {
		_ = stores.Close()
		return nil, nil, fmt.Errorf("metadata plane: %w", err)
	}
	logger = logger.With("node", id)
	closeAll := func() {
		if err := g.Close(); err != nil {
			logger.Warn("close metadata plane", "err", err)
		}
		if err := stores.Close(); err != nil {
			logger.Warn("close raft stores", "err", err)
		}
	}
	return g, closeAll, nil
}

// rpcHandler serves the internal RPC port: the metadata plane's methods
// and the node's replica methods.
func rpcHandler(g *group.Group, n *node.Node) rpc.Handler {
	return func(ctx context.Context, method string, body []byte) ([]byte, error) {
		switch {
		case group.Handles(method):
			return g.Handle(ctx, method, body)
		case node.Handles(method):
			return n.HandleRPC(ctx, method, body)
		}
		return nil, fmt.Errorf("%w: %s", rpc.ErrUnknownMethod, method)
	}
}

// advertised is the address to tell others: the flag if set, else what
// the listener is bound to.
func advertised(flag string, ln net.Listener) string {
	if flag != "" {
		return flag
	}
	return ln.Addr().String()
}
