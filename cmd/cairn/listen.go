package main

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/cairnkv/cairn/internal/clustertls"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/prometheus/client_golang/prometheus"
)

// certExpiryWarning: a node whose certificate expires sooner than this
// warns at start.
const certExpiryWarning = 30 * 24 * time.Hour

// clusterListeners opens the internal RPC and Raft listeners and returns
// them with the network cluster traffic is dialled through: plain TCP, or
// mutual TLS under the cluster CA when cfg names the credentials, in which
// case the listeners hand out only connections from holders of a node
// certificate. Closing a listener closes what it wraps.
func clusterListeners(cfg Config, reg prometheus.Registerer, logger *slog.Logger) (rpcLn, raftLn net.Listener, nw rpc.Network, err error) {
	files := cfg.clusterTLS()
	var tlsNet *rpc.TLS
	if files.Enabled() {
		creds, err := clustertls.Load(files)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("cluster tls: %w", err)
		}
		tc := rpc.DefaultTLSConfig()
		tc.Server, tc.Client = creds.ServerConfig(), creds.ClientConfig()
		tc.Registry = reg
		tc.Logger = logger
		if tlsNet, err = rpc.NewTLS(tc, rpc.TCP{}); err != nil {
			return nil, nil, nil, fmt.Errorf("cluster tls: %w", err)
		}
		logger.Info("cluster tls on: internal RPC and Raft peers must hold a node certificate from the cluster CA",
			"certificate", creds.Name, "ca", files.CA, "expires", creds.NotAfter().UTC())
		if left := time.Until(creds.NotAfter()); left < certExpiryWarning {
			logger.Warn("cluster tls: this node's certificate expires soon; once it has, no peer accepts this node: issue a new one and restart",
				"certificate", files.Cert, "expires", creds.NotAfter().UTC(), "in", left.Round(time.Hour))
		}
		if reg != nil {
			notAfter := float64(creds.NotAfter().Unix())
			if err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "cairn_cluster_tls_cert_not_after_seconds",
				Help: "When this node's cluster TLS certificate expires (Unix time): alert well before it.",
			}, func() float64 { return notAfter })); err != nil {
				return nil, nil, nil, fmt.Errorf("cluster tls: metrics: %w", err)
			}
		}
	} else {
		logger.Warn("cluster tls off: anyone who can reach the RPC and Raft ports can read and write data and join the cluster; set --cluster-tls-ca, --cluster-tls-cert and --cluster-tls-key")
	}
	if cfg.GossipKey == "" {
		logger.Warn("gossip is not encrypted: set --gossip-key")
	}

	rpcLn, err = net.Listen("tcp", cfg.RPCAddr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("rpc listen: %w", err)
	}
	raftLn, err = net.Listen("tcp", cfg.RaftAddr)
	if err != nil {
		rpcLn.Close()
		return nil, nil, nil, fmt.Errorf("raft listen: %w", err)
	}
	if tlsNet == nil {
		return rpcLn, raftLn, rpc.TCP{}, nil
	}
	return tlsNet.Wrap(rpcLn, "rpc"), tlsNet.Wrap(raftLn, "raft"), tlsNet, nil
}
