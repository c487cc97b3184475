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

// metaPlane is the running metadata plane: the Raft group member and the
// RPC server and client it talks through.
type metaPlane struct {
	group  *group.Group
	rpcSrv *rpc.Server
}

// openMeta opens <data-dir>/raft and starts this node's member of the
// Raft group. The returned func closes it all, in order.
func openMeta(cfg Config, id string, logger *slog.Logger, nw rpc.Network, httpAddr, rpcAddr, raftAddr string) (*metaPlane, func(), error) {
	stores, err := group.OpenStores(filepath.Join(cfg.DataDir, "raft"), hclogslog.New(logger, "raft"))
	if err != nil {
		return nil, nil, err
	}
	rc := rpc.DefaultConfig()
	rc.Logger = logger
	client := rpc.NewClient(rc, nw)

	gc := group.DefaultConfig()
	gc.NodeID = id
	gc.RaftAddr = cfg.RaftAddr
	gc.RaftAdvertise = raftAddr
	gc.RPCAddr = rpcAddr
	gc.HTTPAddr = httpAddr
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
		_ = client.Close()
		_ = stores.Close()
		return nil, nil, fmt.Errorf("metadata plane: %w", err)
	}
	srv := rpc.NewServer(rc, func(ctx context.Context, method string, body []byte) ([]byte, error) {
		if group.Handles(method) {
			return g.Handle(ctx, method, body)
		}
		return nil, fmt.Errorf("%w: %s", rpc.ErrUnknownMethod, method)
	})
	closeAll := func() {
		_ = srv.Close()
		if err := g.Close(); err != nil {
			logger.Warn("close metadata plane", "err", err)
		}
		_ = client.Close()
		if err := stores.Close(); err != nil {
			logger.Warn("close raft stores", "err", err)
		}
	}
	return &metaPlane{group: g, rpcSrv: srv}, closeAll, nil
}

// advertised is the address to tell others: the flag if set, else what
// the listener is bound to.
func advertised(flag string, ln net.Listener) string {
	if flag != "" {
		return flag
	}
	return ln.Addr().String()
}
