package gossip

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"
)

// Config holds a node's gossip settings. Start from DefaultConfig (or
// DefaultLocalConfig in tests) and set NodeID, the addresses and Meta.
type Config struct {
	// NodeID is this node's memberlist name: the cairn node id. It must be
	// unique in the cluster and stable across restarts.
	NodeID string
	// BindAddr is the host:port memberlist listens on, UDP and TCP. Port 0
	// picks a free port (see Gossip.Addr). The host must be an IP address.
	// Unused when Transport is set.
	BindAddr string
	// AdvertiseAddr is the host:port other nodes reach this one at. Empty:
	// derived from BindAddr (with an unspecified bind IP, memberlist picks
	// a private address of this host and fails if there is none).
	AdvertiseAddr string
	// SecretKey encrypts and authenticates all gossip (AES-GCM) when set:
	// 16, 24 or 32 bytes, the same on every node (see ParseKey). A node
	// with another key, or none, cannot join. Nil: no encryption.
	SecretKey []byte
	// AcceptKeys are further keys gossip from others may be encrypted
	// with; this node sends with SecretKey only. They make a rolling key
	// rotation possible without a gossip outage (see ParseKeyring).
	// They need SecretKey.
	AcceptKeys [][]byte
	// Meta is what this node advertises at start.
	Meta Meta
	// Transport carries memberlist's packets and streams. Nil: memberlist's
	// network transport on BindAddr. Tests pass a transport from a
	// memberlist.MockNetwork.
	Transport memberlist.Transport

	// ProbeInterval is how often a random member is probed; ProbeTimeout
	// how long a direct probe waits for its ack before asking others to
	// probe indirectly. ProbeTimeout must be shorter than ProbeInterval.
	ProbeInterval time.Duration
	ProbeTimeout  time.Duration
	// GossipInterval is how often queued broadcasts go out to a few random
	// members.
	GossipInterval time.Duration
	// PushPullInterval is how often a full state exchange with a random
	// member repairs what gossip missed.
	PushPullInterval time.Duration
	// SuspicionMult scales how long a suspect member has to refute before
	// it is declared dead: SuspicionMult × ProbeInterval × max(1, log10 N)
	// at least, up to 6 times that without confirmations from others.
	SuspicionMult int
	// TCPTimeout bounds a stream connection (join, push/pull, TCP probe
	// fallback).
	TCPTimeout time.Duration
	// DeadNodeReclaimTime is how long a member must have been dead before
	// the same node id may come back at a different address. A node id is
	// a persisted identity in cairn, so its reappearing elsewhere is the
	// node having moved, not a conflict. Zero: never (memberlist's
	// default); a dead node may always come back at its old address.
	DeadNodeReclaimTime time.Duration
	// BroadcastTimeout bounds how long SetMeta and Leave wait for their
	// broadcast to go out.
	BroadcastTimeout time.Duration
	// ReconnectInterval is how often this node tries to join the members
	// it holds dead, so that a healed partition rejoins (memberlist itself
	// never contacts a dead member again). Zero: never.
	ReconnectInterval time.Duration

	// Logger receives this package's and memberlist's log lines.
	Logger *slog.Logger
}

// DefaultConfig returns settings for a LAN (memberlist's LAN defaults),
// bound to the default gossip port 7946 on all interfaces. NodeID and
// Meta must still be set.
func DefaultConfig() Config {
	return Config{
		BindAddr:            "0.0.0.0:7946",
		ProbeInterval:       time.Second,
		ProbeTimeout:        500 * time.Millisecond,
		GossipInterval:      200 * time.Millisecond,
		PushPullInterval:    30 * time.Second,
		SuspicionMult:       4,
		TCPTimeout:          10 * time.Second,
		DeadNodeReclaimTime: 30 * time.Second,
		BroadcastTimeout:    5 * time.Second,
		ReconnectInterval:   30 * time.Second,
		Logger:              slog.Default(),
	}
}

// DefaultLocalConfig is DefaultConfig with the short timings an
// in-process or loopback cluster wants: a crashed member is suspected
// within a few hundred milliseconds and declared dead within about two
// seconds. It binds to a free loopback port.
func DefaultLocalConfig() Config {
	c := DefaultConfig()
	c.BindAddr = "127.0.0.1:0"
	c.ProbeInterval = 100 * time.Millisecond
	c.ProbeTimeout = 50 * time.Millisecond
	c.GossipInterval = 20 * time.Millisecond
	c.PushPullInterval = 15 * time.Second
	c.SuspicionMult = 3
	c.TCPTimeout = 2 * time.Second
	c.DeadNodeReclaimTime = time.Second
	c.BroadcastTimeout = 2 * time.Second
	c.ReconnectInterval = 500 * time.Millisecond
	return c
}

// Validate reports the first invalid setting; the error wraps
// ErrInvalidConfig (or ErrInvalidKey, ErrMetaTooLarge).
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.NodeID == "":
		return bad("empty NodeID")
	case c.Transport == nil && c.BindAddr == "":
		return bad("empty BindAddr and no Transport")
	case c.ProbeInterval <= 0 || c.ProbeTimeout <= 0 || c.GossipInterval <= 0 ||
		c.PushPullInterval <= 0 || c.TCPTimeout <= 0 || c.BroadcastTimeout <= 0:
		return bad("intervals and timeouts must be positive")
	case c.ProbeTimeout >= c.ProbeInterval:
		return bad("ProbeTimeout %v must be shorter than ProbeInterval %v", c.ProbeTimeout, c.ProbeInterval)
	case c.SuspicionMult < 1:
		return bad("SuspicionMult must be at least 1, got %d", c.SuspicionMult)
	case c.DeadNodeReclaimTime < 0:
		return bad("negative DeadNodeReclaimTime")
	case c.ReconnectInterval < 0:
		return bad("negative ReconnectInterval")
	case c.Logger == nil:
		return bad("nil Logger")
	}
	if c.BindAddr != "" {
		if _, _, err := splitAddr(c.BindAddr, true); err != nil {
			return bad("BindAddr: %v", err)
		}
	}
	if c.AdvertiseAddr != "" {
		if _, _, err := splitAddr(c.AdvertiseAddr, false); err != nil {
			return bad("AdvertiseAddr: %v", err)
		}
	}
	if c.SecretKey != nil {
		if err := checkKey(c.SecretKey); err != nil {
			return fmt.Errorf("%w: SecretKey: %w", ErrInvalidConfig, err)
		}
	}
	if len(c.AcceptKeys) > 0 && c.SecretKey == nil {
		return bad("AcceptKeys without a SecretKey")
	}
	for i, k := range c.AcceptKeys {
		if err := checkKey(k); err != nil {
			return fmt.Errorf("%w: AcceptKeys[%d]: %w", ErrInvalidConfig, i, err)
		}
	}
	if _, err := encodeMeta(c.Meta, true); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

// splitAddr splits an IP:port address; port 0 only if zeroPort.
func splitAddr(addr string, zeroPort bool) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	if net.ParseIP(host) == nil {
		return "", 0, fmt.Errorf("%q is not an IP address", host)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("bad port %q", portStr)
	}
	if port == 0 && !zeroPort {
		return "", 0, fmt.Errorf("port 0 in %q", addr)
	}
	return host, int(port), nil
}

// memberlistConfig translates a valid Config. The memberlist hooks and
// logger are set by New.
func (c Config) memberlistConfig() *memberlist.Config {
	mc := memberlist.DefaultLANConfig()
	mc.Name = c.NodeID
	if c.BindAddr != "" {
		mc.BindAddr, mc.BindPort, _ = splitAddr(c.BindAddr, true)
		mc.AdvertisePort = mc.BindPort
	}
	if c.AdvertiseAddr != "" {
		mc.AdvertiseAddr, mc.AdvertisePort, _ = splitAddr(c.AdvertiseAddr, false)
	}
	if c.SecretKey != nil {
		// memberlist encrypts with the keyring's primary key and tries
		// every key of the ring to decrypt. Validate checked every key,
		// which is all NewKeyring can object to.
		var accept [][]byte
		for _, k := range c.AcceptKeys {
			accept = append(accept, append([]byte(nil), k...))
		}
		mc.Keyring, _ = memberlist.NewKeyring(accept, append([]byte(nil), c.SecretKey...))
	}
	mc.Transport = c.Transport
	mc.ProbeInterval = c.ProbeInterval
	mc.ProbeTimeout = c.ProbeTimeout
	mc.GossipInterval = c.GossipInterval
	mc.PushPullInterval = c.PushPullInterval
	mc.SuspicionMult = c.SuspicionMult
	mc.TCPTimeout = c.TCPTimeout
	mc.DeadNodeReclaimTime = c.DeadNodeReclaimTime
	return mc
}
