package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config tunes a Client. Start from DefaultConfig and set Nodes; New gives
// every zero field its default.
type Config struct {
	// Nodes are the nodes to talk to, "host:port" or "http(s)://host:port"
	// (a path prefix, for a proxy, is kept). At least one. Any node serves
	// any key; the client spreads calls over them round-robin.
	Nodes []string
	// Timeout bounds one call, retries and backoff included, unless the
	// context has an earlier deadline. Default 10s. A Timeout option
	// overrides it per call.
	Timeout time.Duration
	// Retries is how many more attempts an idempotent call (Get, Delete,
	// props, listings, Ping, Stats) makes, each on another node, after a
	// connection failure or a 5xx. Put is retried only when its request
	// surely never reached a node (the connection could not be opened):
	// a put that did reach one may have been stored, and sent again it
	// would become a sibling of itself. Default 2; negative: no retries.
	Retries int
	// RetryBackoff is the wait before the first retry; it doubles for
	// each further one, up to MaxBackoff, with jitter. Default 50ms.
	RetryBackoff time.Duration
	// MaxBackoff caps the wait between retries. Default 1s.
	MaxBackoff time.Duration
	// DownFor is how long a node is skipped after a connection failure or
	// a 503 that is not a quorum error (a quorum error says the node is up
	// but replicas behind it are not). When every node is down they are
	// all tried anyway. A 503 with Retry-After (a node shedding load)
	// skips the node for that long instead, if shorter. Default 5s;
	// negative: never skip a node.
	DownFor time.Duration
	// HTTPClient sends the requests. Nil: a client of the Client's own
	// with pooled connections (64 idle per node) and a 2s dial timeout,
	// so that an unreachable node costs a bounded part of a call.
	HTTPClient *http.Client
	// CAFile is a PEM file of the certificate authorities that sign the
	// nodes' HTTPS certificates (https:// Nodes); they replace the
	// system's roots. Empty: the system's roots. It configures the
	// Client's own transport, so it cannot be combined with HTTPClient.
	CAFile string
	// Token is sent on every request as "Authorization: Bearer <Token>",
	// for nodes started with a token file. Use https:// Nodes with it:
	// over plain HTTP the token crosses the network in clear.
	Token string
	// Resolver, when set, turns siblings into one value on every read
	// (Get, Update, and the result of Update). Nil: reads return every
	// sibling.
	Resolver Resolver
	// Logger receives retries (debug) and nodes marked down (warn). Nil:
	// nothing is logged.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults; Nodes is left empty.
func DefaultConfig() Config {
	return Config{
		Timeout:      10 * time.Second,
		Retries:      2,
		RetryBackoff: 50 * time.Millisecond,
		MaxBackoff:   time.Second,
		DownFor:      5 * time.Second,
	}
}

// DefaultLocalConfig is DefaultConfig tuned for tests against nodes on
// loopback: a short Timeout, quick retries, a short DownFor.
func DefaultLocalConfig() Config {
	c := DefaultConfig()
	c.Timeout = 5 * time.Second
	c.RetryBackoff = time.Millisecond
	c.MaxBackoff = 20 * time.Millisecond
	c.DownFor = time.Second
	return c
}

// withDefaults gives every zero field its default.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.Retries == 0 {
		c.Retries = d.Retries
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = d.RetryBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = d.MaxBackoff
	}
	if c.DownFor == 0 {
		c.DownFor = d.DownFor
	}
	return c
}

// Validate reports the first invalid setting. Zero durations are invalid
// here; New replaces them by their defaults before it validates.
func (c Config) Validate() error {
	if len(c.Nodes) == 0 {
		return errors.New("client: config: no Nodes")
	}
	for _, n := range c.Nodes {
		if _, err := nodeURL(n); err != nil {
			return fmt.Errorf("client: config: %w", err)
		}
	}
	switch {
	case c.Timeout <= 0:
		return fmt.Errorf("client: config: Timeout %v must be positive", c.Timeout)
	case c.RetryBackoff <= 0:
		return fmt.Errorf("client: config: RetryBackoff %v must be positive", c.RetryBackoff)
	case c.MaxBackoff < c.RetryBackoff:
		return fmt.Errorf("client: config: MaxBackoff %v must be at least RetryBackoff %v", c.MaxBackoff, c.RetryBackoff)
	case c.DownFor == 0:
		return errors.New("client: config: DownFor must be positive (negative: never skip a node)")
	case c.CAFile != "" && c.HTTPClient != nil:
		return errors.New("client: config: CAFile configures the client's own transport: set it on HTTPClient's instead")
	case strings.ContainsAny(c.Token, " \t\r\n"):
		return errors.New("client: config: Token holds white space or a line break")
	}
	return nil
}

// tlsConfig is the TLS configuration of the Client's own transport: the
// roots of CAFile, or nil for the system's.
func (c Config) tlsConfig() (*tls.Config, error) {
	if c.CAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("client: config: CAFile: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("client: config: CAFile %s holds no PEM certificate", c.CAFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// nodeURL turns a configured node into the base URL requests are sent to:
// scheme, host and any path prefix, without a trailing slash.
func nodeURL(s string) (string, error) {
	raw := strings.TrimSpace(s)
	if raw == "" {
		return "", errors.New("empty node address")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("node %q: %w", s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("node %q: scheme must be http or https", s)
	case u.Host == "":
		return "", fmt.Errorf("node %q: no host", s)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "", fmt.Errorf("node %q: want [http(s)://]host:port[/prefix], without user, query or fragment", s)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}
