package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/node"
)

// aaeStatus reads a node's anti-entropy status.
func (c *procCluster) aaeStatus(nd *child) (*antientropy.Status, error) {
	resp, err := c.hc.Get("http://" + nd.addr + "/admin/aae")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /admin/aae: %s", resp.Status)
	}
	var st antientropy.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, err
	}
	return &st, nil
}

// aaeTotal sums one anti-entropy counter over every running node.
func (c *procCluster) aaeTotal(field func(*antientropy.Status) uint64) (uint64, error) {
	var total uint64
	for _, nd := range c.nodes {
		if !nd.alive() {
			continue
		}
		st, err := c.aaeStatus(nd)
		if err != nil {
			return 0, err
		}
		total += field(st)
	}
	return total, nil
}

// keysRepaired sums the keys every running node's exchanges repaired.
func (c *procCluster) keysRepaired() (uint64, error) {
	return c.aaeTotal(func(st *antientropy.Status) uint64 { return st.KeysRepaired })
}

// stopNode stops node i with SIGTERM and waits for it to exit.
func (c *procCluster) stopNode(i int) {
	c.tb.Helper()
	nd := c.nodes[i]
	if err := nd.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		c.tb.Fatal(err)
	}
	select {
	case <-nd.done:
	case <-time.After(60 * time.Second):
		c.tb.Fatalf("node %d did not exit within 60s of SIGTERM", i+1)
	}
}

// writeMissing stops node 3, writes count keys with w=2 through the others
// and starts node 3 again: it then lacks those keys, and nothing but
// anti-entropy will give them to it, as long as nobody reads them. It
// returns the keys and when node 3 was started again.
func (c *procCluster) writeMissing(count int, prefix string) ([]string, time.Time) {
	c.tb.Helper()
	keys := c.spreadKeys(count, prefix)
	c.stopNode(2)
	for i, key := range keys {
		code, body, err := put(c.hc, keyURL(c.nodes[i%2], "aae", key, "?w=2"), "v")
		if err != nil || code != http.StatusNoContent {
			c.tb.Fatalf("put %s with node 3 down: %d %s %v", key, code, body, err)
		}
	}
	started := time.Now()
	c.restart(2)
	return keys, started
}

// spreadKeys picks count keys of bucket "aae" with a replica on each of
// the three nodes: a 3-node ring of 64 partitions has a few preference
// lists that hold a node twice, and a write to those with a node down
// sends a copy to a fallback as a hint, which is not what these tests
// are about.
func (c *procCluster) spreadKeys(count int, prefix string) []string {
	c.tb.Helper()
	r := c.ring(c.nodes[0])
	var keys []string
	for i := 0; len(keys) < count; i++ {
		key := fmt.Sprintf("%s%d", prefix, i)
		loc := node.Location{Type: node.DefaultType, Bucket: "aae", Key: key}
		nodes := map[string]bool{}
		for _, vn := range r.Preflist(loc.Bytes(), 3) {
			nodes[vn.Node] = true
		}
		if len(nodes) == 3 {
			keys = append(keys, key)
		}
	}
	return keys
}

// readRepairs sums the read repairs of every running node.
func (c *procCluster) readRepairs() uint64 {
	c.tb.Helper()
	var total uint64
	for _, nd := range c.nodes {
		resp, err := c.hc.Get("http://" + nd.addr + "/stats")
		if err != nil {
			c.tb.Fatal(err)
		}
		var st node.Stats
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			c.tb.Fatal(err)
		}
		total += st.ReadRepairs
	}
	return total
}

// A node that was down while writes were made gets them from
// anti-entropy, across real processes, with no read of those keys.
func TestProcessAAERepairsARestartedNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of three cairn processes")
	}
	c := startProcCluster(t, 3, "--aae-interval", "300ms")
	keys, _ := c.writeMissing(200, "missed-")
	c.eventually(90*time.Second, "anti-entropy repairs node 3", func() (bool, string) {
		n, err := c.keysRepaired()
		if err != nil {
			return false, err.Error()
		}
		return n >= uint64(len(keys)), fmt.Sprintf("%d of %d keys repaired", n, len(keys))
	})
	// Reading every key from all three replicas now finds nothing to
	// repair: anti-entropy left no replica behind.
	for i, key := range keys {
		resp, err := c.hc.Get(keyURL(c.nodes[i%3], "aae", key, "?r=3"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("get %s with r=3: %s", key, resp.Status)
		}
	}
	if rr := c.readRepairs(); rr != 0 {
		t.Fatalf("%d read repairs after anti-entropy; want none", rr)
	}
	st, err := c.aaeStatus(c.nodes[2])
	if err != nil {
		t.Fatal(err)
	}
	if !st.Enabled || len(st.Partitions) == 0 || st.TreeBytes == 0 {
		t.Fatalf("node 3 anti-entropy status: %+v", st)
	}
}
