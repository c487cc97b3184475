package gossip

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/memberlist"
)

func TestDefaultConfigsAreValidOnceNamed(t *testing.T) {
	for name, c := range map[string]Config{"DefaultConfig": DefaultConfig(), "DefaultLocalConfig": DefaultLocalConfig()} {
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s without NodeID: Validate() = %v, want ErrInvalidConfig", name, err)
		}
		c.NodeID = "n1"
		if err := c.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v", name, err)
		}
	}
}

func TestValidate(t *testing.T) {
	valid := func() Config {
		c := DefaultLocalConfig()
		c.NodeID = "n1"
		c.Meta = testMeta("n1")
		return c
	}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   error // nil: valid
	}{
		{"valid", func(*Config) {}, nil},
		{"no node id", func(c *Config) { c.NodeID = "" }, ErrInvalidConfig},
		{"no bind addr", func(c *Config) { c.BindAddr = "" }, ErrInvalidConfig},
		{"no bind addr with transport", func(c *Config) {
			c.BindAddr = ""
			c.Transport = (&memberlist.MockNetwork{}).NewTransport("n1")
		}, nil},
		{"bind without port", func(c *Config) { c.BindAddr = "127.0.0.1" }, ErrInvalidConfig},
		{"bind to hostname", func(c *Config) { c.BindAddr = "localhost:7946" }, ErrInvalidConfig},
		{"bind port too big", func(c *Config) { c.BindAddr = "127.0.0.1:70000" }, ErrInvalidConfig},
		{"bind ipv6", func(c *Config) { c.BindAddr = "[::1]:0" }, nil},
		{"advertise", func(c *Config) { c.AdvertiseAddr = "10.0.0.5:7946" }, nil},
		{"advertise port 0", func(c *Config) { c.AdvertiseAddr = "10.0.0.5:0" }, ErrInvalidConfig},
		{"advertise hostname", func(c *Config) { c.AdvertiseAddr = "node1:7946" }, ErrInvalidConfig},
		{"key 16", func(c *Config) { c.SecretKey = make([]byte, 16) }, nil},
		{"key 24", func(c *Config) { c.SecretKey = make([]byte, 24) }, nil},
		{"key 32", func(c *Config) { c.SecretKey = make([]byte, 32) }, nil},
		{"key 20", func(c *Config) { c.SecretKey = make([]byte, 20) }, ErrInvalidKey},
		{"key empty, not nil", func(c *Config) { c.SecretKey = []byte{} }, ErrInvalidKey},
		{"accept keys", func(c *Config) { c.SecretKey, c.AcceptKeys = make([]byte, 32), [][]byte{make([]byte, 16)} }, nil},
		{"accept keys without key", func(c *Config) { c.AcceptKeys = [][]byte{make([]byte, 16)} }, ErrInvalidConfig},
		{"accept key 20", func(c *Config) { c.SecretKey, c.AcceptKeys = make([]byte, 32), [][]byte{make([]byte, 20)} }, ErrInvalidKey},
		{"meta too large", func(c *Config) { c.Meta.RaftAddr = strings.Repeat("x", 500) }, ErrMetaTooLarge},
		{"zero probe interval", func(c *Config) { c.ProbeInterval = 0 }, ErrInvalidConfig},
		{"probe timeout not shorter", func(c *Config) { c.ProbeTimeout = c.ProbeInterval }, ErrInvalidConfig},
		{"zero gossip interval", func(c *Config) { c.GossipInterval = 0 }, ErrInvalidConfig},
		{"zero push/pull", func(c *Config) { c.PushPullInterval = 0 }, ErrInvalidConfig},
		{"zero suspicion mult", func(c *Config) { c.SuspicionMult = 0 }, ErrInvalidConfig},
		{"zero broadcast timeout", func(c *Config) { c.BroadcastTimeout = 0 }, ErrInvalidConfig},
		{"negative reclaim", func(c *Config) { c.DeadNodeReclaimTime = -1 }, ErrInvalidConfig},
		{"no reconnect", func(c *Config) { c.ReconnectInterval = 0 }, nil},
		{"negative reconnect", func(c *Config) { c.ReconnectInterval = -1 }, ErrInvalidConfig},
		{"nil logger", func(c *Config) { c.Logger = nil }, ErrInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.change(&c)
			err := c.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want %v (and ErrInvalidConfig)", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "gossip: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	c := DefaultLocalConfig()
	if _, err := New(c, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("New without NodeID = %v, want ErrInvalidConfig", err)
	}
}

func TestNewBindsPortZero(t *testing.T) {
	c := DefaultLocalConfig()
	c.NodeID = "n1"
	c.Logger = discardLogger()
	g, err := New(c, nil) // nil Delegate: events are dropped
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if addr := g.Addr(); !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("Addr() = %q, want 127.0.0.1 and a real port", addr)
	}
	if ms := g.Members(); len(ms) != 1 || ms[0].Node != "n1" || ms[0].Addr != g.Addr() || ms[0].State != Alive {
		t.Fatalf("Members() = %+v, want only n1, alive at %s", ms, g.Addr())
	}
	if n, err := g.Join(nil); n != 0 || err != nil {
		t.Fatalf("Join(nil) = %d, %v; want 0, nil", n, err)
	}
	if err := g.SetRingEpoch(2); err != nil { // alone: no one to wait for
		t.Fatalf("SetRingEpoch alone: %v", err)
	}
	if m := memberOf(t, g, "n1"); m.Meta.RingEpoch != 2 {
		t.Fatalf("own member has epoch %d, want 2", m.Meta.RingEpoch)
	}
}

func TestNewFailsOnBusyPort(t *testing.T) {
	c := DefaultLocalConfig()
	c.NodeID = "n1"
	c.Logger = discardLogger()
	a, err := New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c.NodeID = "n2"
	c.BindAddr = a.Addr()
	if b, err := New(c, nil); err == nil {
		b.Close()
		t.Fatalf("New on %s, already bound: no error", a.Addr())
	} else if !strings.HasPrefix(err.Error(), "gossip: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
}
