package gossip

import "time"

// reconnect tries, every Config.ReconnectInterval, to join each member
// this node holds dead, until Close or Leave.
//
// memberlist never contacts a member once it has declared it dead. After a
// partition that outlasted the suspicion timeout each side holds the other
// dead, and without a new join the two would stay apart for good; a
// member that left is not retried. A join merges state both ways; each
// side then refutes the other's belief that it is dead, and both turn
// Alive again.
func (g *Gossip) reconnect(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ticker := time.NewTicker(g.cfg.ReconnectInterval)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		for _, m := range g.deadMembers() {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := g.ml.Join([]string{m.Addr}); err != nil {
				g.logger.Debug("gossip: dead member still unreachable", "node", m.Node, "addr", m.Addr, "err", err)
				continue
			}
			g.logger.Info("gossip: reached dead member again", "node", m.Node, "addr", m.Addr)
		}
	}
}

// deadMembers lists the members to retry: none once this node is leaving.
func (g *Gossip) deadMembers() []Member {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.leaving || g.closed {
		return nil
	}
	var out []Member
	for name, m := range g.members {
		if m.state == Dead && m.addr != "" {
			out = append(out, Member{Node: name, Addr: m.addr, State: m.state, Meta: m.meta})
		}
	}
	return out
}
