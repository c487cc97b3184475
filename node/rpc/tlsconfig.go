package rpc

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"time"

	"github.com/cairnkv/cairn/clock"
	"github.com/prometheus/client_golang/prometheus"
)

// TLSConfig configures a TLS network. Start from DefaultTLSConfig and set
// Server and Client (clustertls.Credentials builds both).
type TLSConfig struct {
	// Server is used for accepted connections, Client for dialled ones.
	// Who may connect is decided by these: for cluster traffic, a client
	// certificate required and verified against the cluster CA.
	Server *tls.Config
	Client *tls.Config
	// HandshakeTimeout bounds a handshake on either end. An accepted
	// connection that has not completed one by then is closed as rejected,
	// so a peer that connects and says nothing holds nothing for long.
	HandshakeTimeout time.Duration
	// LogInterval spaces the warnings about rejected handshakes: the first
	// is logged at once, later ones at most once per interval per
	// listener, each with how many were not logged since the last. A
	// process probing the port with bad credentials cannot flood the log;
	// the metric counts every rejection.
	LogInterval time.Duration
	// Registry receives cairn_cluster_tls_rejected_total; nil: no metrics.
	Registry prometheus.Registerer
	Clock    clock.Clock
	Logger   *slog.Logger
}

// DefaultTLSConfig returns production settings without credentials.
func DefaultTLSConfig() TLSConfig {
	return TLSConfig{
		HandshakeTimeout: 10 * time.Second,
		LogInterval:      10 * time.Second,
		Clock:            clock.Real{},
		Logger:           slog.Default(),
	}
}

// Validate reports the first invalid setting.
func (c TLSConfig) Validate() error {
	switch {
	case c.Server == nil || c.Client == nil:
		return errors.New("rpc: tls config: Server and Client TLS configurations are required")
	case c.HandshakeTimeout <= 0:
		return errors.New("rpc: tls config: handshake timeout must be positive")
	case c.LogInterval < 0:
		return errors.New("rpc: tls config: negative log interval")
	case c.Clock == nil:
		return errors.New("rpc: tls config: nil Clock")
	case c.Logger == nil:
		return errors.New("rpc: tls config: nil Logger")
	}
	return nil
}
