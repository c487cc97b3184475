package meta

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/ring"
)

// The plan tests drive a State directly: there is no command that
// completes a handoff, so settle stands in for it.

func step(t *testing.T, s *State, op Op, body any) *Result {
	t.Helper()
	data, err := Encode(op, body)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := DecodeCommand(data)
	if err != nil {
		t.Fatal(err)
	}
	res := &Result{}
	if err := applyCommand(s, cmd, res); err != nil {
		t.Fatalf("%s %+v: %v", op, body, err)
	}
	return res
}

// newCluster returns a state with a 64-partition ring (target n 3) owned
// by n1 and the others registered as joining.
func newCluster(t *testing.T, others ...string) *State {
	s := NewState(node.DefaultProps())
	step(t, s, OpInit, InitCmd{RingSize: 64, TargetN: 3, First: Member{ID: "n1"}})
	for _, id := range others {
		step(t, s, OpRegister, RegisterCmd{Member: Member{ID: id}})
	}
	return s
}

func stage(t *testing.T, s *State, changes ...Change) {
	t.Helper()
	for _, c := range changes {
		step(t, s, OpStage, c)
	}
}

func commit(t *testing.T, s *State) {
	t.Helper()
	step(t, s, OpCommit, CommitCmd{Epoch: s.Ring.Epoch})
}

// settle completes every pending transfer, as handoff would.
func settle(s *State) {
	for _, tr := range s.Ring.Pending {
		s.Ring.Owners[tr.Partition] = tr.To
	}
	s.Ring.Pending = nil
}

func joins(ids ...string) []Change {
	var out []Change
	for _, id := range ids {
		out = append(out, Change{Kind: ChangeJoin, Node: id})
	}
	return out
}

func mustRing(t *testing.T, owners []string) *ring.Ring {
	t.Helper()
	r, err := ring.New(ring.Config{Size: len(owners)}, owners, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// pairs counts moves per (from, to), sorted as Plan.Transfers.
func pairs(moves []ring.Move) []PairTransfers {
	n := map[[2]string]int{}
	for _, m := range moves {
		n[[2]string{m.From, m.To}]++
	}
	var out []PairTransfers
	for k, v := range n {
		out = append(out, PairTransfers{From: k[0], To: k[1], Partitions: v})
	}
	slices.SortFunc(out, func(a, b PairTransfers) int { return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To)) })
	return out
}

func hasWarning(p *Plan, prefix string) bool {
	return slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.HasPrefix(w, prefix) })
}

// checkClaimPlan checks the plan of s (no pending transfers) against
// ring.Claim over members and returns it.
func checkClaimPlan(t *testing.T, s *State, members []string, wantWarning bool) *Plan {
	t.Helper()
	if s.Ring.Pending != nil {
		t.Fatal("checkClaimPlan wants a settled ring")
	}
	before := s.Clone()
	p, err := ComputePlan(s)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, before) {
		t.Fatal("ComputePlan modified the state")
	}
	cur := mustRing(t, s.Ring.Owners)
	want, err := ring.Claim(ring.Config{Size: 64}, cur, members, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Next, want.Owners()) {
		t.Fatalf("next %v\nwant ring.Claim's %v", p.Next, want.Owners())
	}
	lo, hi := 64/len(members), (64+len(members)-1)/len(members)
	for _, m := range members {
		if n := count(p.Next, m); n < lo || n > hi {
			t.Fatalf("%s owns %d of 64 partitions, want %d..%d", m, n, lo, hi)
		}
	}
	if want := pairs(ring.Moves(cur, want)); !reflect.DeepEqual(p.Transfers, want) {
		t.Fatalf("transfers %v, want ring.Moves' %v", p.Transfers, want)
	}
	if got := hasWarning(p, "n_val 3: "); got != wantWarning {
		t.Fatalf("n_val warning %v, want %v: %q", got, wantWarning, p.Warnings)
	}
	if again, _ := ComputePlan(s.Clone()); !reflect.DeepEqual(again, p) {
		t.Fatalf("same state, different plan:\n%+v\n%+v", p, again)
	}
	var ringPct, nextPct float64
	for _, np := range p.Nodes {
		ringPct += np.RingPct
		nextPct += np.NextPct
		if np.Partitions != count(s.Ring.Owners, np.ID) || np.Next != count(p.Next, np.ID) {
			t.Fatalf("node plan %+v", np)
		}
	}
	if math.Abs(ringPct-100) > 0.1 || math.Abs(nextPct-100) > 0.1 {
		t.Fatalf("percentages add up to %.2f now and %.2f next", ringPct, nextPct)
	}
	return p
}

func nodePlan(t *testing.T, p *Plan, id string) NodePlan {
	t.Helper()
	i := slices.IndexFunc(p.Nodes, func(np NodePlan) bool { return np.ID == id })
	if i < 0 {
		t.Fatalf("%s not in the plan's nodes %+v", id, p.Nodes)
	}
	return p.Nodes[i]
}

func TestPlanGrowAndShrink(t *testing.T) {
	s := newCluster(t, "n2", "n3", "n4", "n5")

	// 1 → 3: 3 nodes cannot keep n_val 3 apart on 64 partitions.
	stage(t, s, joins("n2", "n3")...)
	p := checkClaimPlan(t, s, []string{"n1", "n2", "n3"}, true)
	if !strings.Contains(p.Warnings[0], "3 nodes cannot") {
		t.Fatalf("warning does not say why: %q", p.Warnings[0])
	}
	if np := nodePlan(t, p, "n2"); np.State != Valid || np.RingPct != 0 || np.Partitions != 0 || np.NextPct != np.PendingPct {
		t.Fatalf("n2's plan %+v", np)
	}
	if np := nodePlan(t, p, "n1"); np.RingPct != 100 || np.PendingPct != pct(64-np.Next, 64) {
		t.Fatalf("n1's plan %+v", np)
	}
	commit(t, s)
	settle(s)

	// 3 → 4 would be separable.
	four := s.Clone()
	stage(t, four, joins("n4")...)
	checkClaimPlan(t, four, []string{"n1", "n2", "n3", "n4"}, false)

	// 3 → 5.
	stage(t, s, joins("n4", "n5")...)
	checkClaimPlan(t, s, []string{"n1", "n2", "n3", "n4", "n5"}, false)
	commit(t, s)
	settle(s)
	if v := mustRing(t, s.Ring.Owners).Violations(3); v != nil {
		t.Fatalf("5-node ring crowds preference lists %v", v)
	}

	// 5 → 4.
	leave := s.Clone()
	stage(t, leave, Change{Kind: ChangeLeave, Node: "n5"})
	p = checkClaimPlan(t, leave, []string{"n1", "n2", "n3", "n4"}, false)
	if np := nodePlan(t, p, "n5"); np.State != Leaving || np.Next != 0 || np.Partitions != count(s.Ring.Owners, "n5") {
		t.Fatalf("n5's plan %+v", np)
	}
	commit(t, leave)
	if m := leave.Members["n5"]; m.State != Leaving {
		t.Fatalf("n5 is %s after its leave commits, want leaving while it hands off", m.State)
	}
	if count(leave.Ring.Owners, "n5") != count(s.Ring.Owners, "n5") {
		t.Fatal("n5 lost partitions before handing them off")
	}
}

func TestPlanReplace(t *testing.T) {
	s := newCluster(t, "n2", "n3", "n4", "n5", "n6")
	stage(t, s, joins("n2", "n3", "n4", "n5")...)
	commit(t, s)
	settle(s)
	cur := slices.Clone(s.Ring.Owners)
	n3 := count(cur, "n3")

	for _, kind := range []ChangeKind{ChangeReplace, ChangeForceReplace} {
		t.Run(string(kind), func(t *testing.T) {
			s := s.Clone()
			stage(t, s, Change{Kind: kind, Node: "n3", Target: "n6"})
			p, err := ComputePlan(s)
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range cur {
				want := o
				if o == "n3" {
					want = "n6"
				}
				if p.Next[i] != want {
					t.Fatalf("partition %d goes to %s, want %s: a replace moves exactly the replaced node's partitions", i, p.Next[i], want)
				}
			}
			if np := nodePlan(t, p, "n6"); np.State != Valid || np.Next != n3 {
				t.Fatalf("n6's plan %+v", np)
			}
			commit(t, s)
			if kind == ChangeReplace {
				if want := []PairTransfers{{From: "n3", To: "n6", Partitions: n3}}; !reflect.DeepEqual(p.Transfers, want) {
					t.Fatalf("transfers %v, want %v", p.Transfers, want)
				}
				if nodePlan(t, p, "n3").State != Leaving || s.Members["n3"].State != Leaving {
					t.Fatal("a replaced node should be leaving")
				}
				if !slices.Equal(s.Ring.Owners, cur) || len(s.Ring.Pending) != n3 {
					t.Fatalf("after commit: owners changed or %d pending", len(s.Ring.Pending))
				}
				if hasWarning(p, "replace") {
					t.Fatalf("warnings %q", p.Warnings)
				}
				return
			}
			if p.Transfers != nil {
				t.Fatalf("a force-replace hands nothing off, got %v", p.Transfers)
			}
			if nodePlan(t, p, "n3").State != Removed {
				t.Fatalf("n3's plan %+v", nodePlan(t, p, "n3"))
			}
			if !hasWarning(p, "force-replace n3 with n6: ") {
				t.Fatalf("warnings %q", p.Warnings)
			}
			if !slices.Equal(s.Ring.Owners, p.Next) || s.Ring.Pending != nil {
				t.Fatal("a force-replace moves ownership at once")
			}
			if _, ok := s.Members["n3"]; ok {
				t.Fatal("n3 is still a member after its force-replace")
			}
		})
	}
}

func TestPlanForceRemove(t *testing.T) {
	s := newCluster(t, "n2", "n3", "n4", "n5")
	stage(t, s, joins("n2", "n3", "n4", "n5")...)
	commit(t, s)
	settle(s)
	cur := slices.Clone(s.Ring.Owners)
	step(t, s, OpSetMemberState, SetMemberStateCmd{ID: "n5", State: Down})
	stage(t, s, Change{Kind: ChangeForceRemove, Node: "n5"})
	p, err := ComputePlan(s)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ring.Claim(ring.Config{Size: 64}, mustRing(t, cur), []string{"n1", "n2", "n3", "n4"}, 3)
	if !slices.Equal(p.Next, want.Owners()) {
		t.Fatal("force-remove does not claim like a leave")
	}
	var handoffs []ring.Move
	for _, m := range ring.Moves(mustRing(t, cur), want) {
		if m.From != "n5" {
			handoffs = append(handoffs, m)
		}
	}
	if !reflect.DeepEqual(p.Transfers, pairs(handoffs)) {
		t.Fatalf("transfers %v, want only those not from n5: %v", p.Transfers, pairs(handoffs))
	}
	if !hasWarning(p, "force-remove n5: its replicas are reassigned without handoff; data only n5 held is lost") {
		t.Fatalf("warnings %q", p.Warnings)
	}
	if hasWarning(p, "n5 is down") {
		t.Fatalf("a removed node is not warned about as down: %q", p.Warnings)
	}
	commit(t, s)
	if _, ok := s.Members["n5"]; ok || slices.Contains(s.Ring.Owners, "n5") {
		t.Fatal("n5 still a member or an owner after force-remove")
	}
	for i, o := range cur {
		if o == "n5" && s.Ring.Owners[i] != p.Next[i] {
			t.Fatalf("partition %d of n5 not moved at once", i)
		}
	}
}

func TestPlanDownMember(t *testing.T) {
	s := newCluster(t, "n2", "n3", "n4", "n5")
	stage(t, s, joins("n2", "n3", "n4")...)
	commit(t, s)
	settle(s)
	step(t, s, OpSetMemberState, SetMemberStateCmd{ID: "n3", State: Down})
	stage(t, s, joins("n5")...)
	// The down node keeps its share: it is still in the claim.
	p := checkClaimPlan(t, s, []string{"n1", "n2", "n3", "n4", "n5"}, false)
	if !hasWarning(p, "n3 is down") {
		t.Fatalf("warnings %q", p.Warnings)
	}
	if np := nodePlan(t, p, "n3"); np.State != Down {
		t.Fatalf("n3's plan %+v", np)
	}
}

// A plan builds on the moves still pending: a leave before handoff
// finished retargets the leaver's incoming transfers, and a leaver that
// owns nothing and awaits nothing may exit at once.
func TestPlanOverPendingTransfers(t *testing.T) {
	s := newCluster(t, "n2", "n3")
	stage(t, s, joins("n2", "n3")...)
	commit(t, s)
	future := slices.Clone(s.Ring.Owners)
	for _, tr := range s.Ring.Pending {
		future[tr.Partition] = tr.To
	}
	stage(t, s, Change{Kind: ChangeLeave, Node: "n3"})
	p, err := ComputePlan(s)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ring.Claim(ring.Config{Size: 64}, mustRing(t, future), []string{"n1", "n2"}, 3)
	if !slices.Equal(p.Next, want.Owners()) {
		t.Fatal("plan does not build on the pending transfers")
	}
	if np := nodePlan(t, p, "n3"); np.State != Exiting {
		t.Fatalf("n3 owns nothing and receives nothing, want exiting: %+v", np)
	}
	commit(t, s)
	for _, tr := range s.Ring.Pending {
		if tr.To == "n3" || tr.From != "n1" || s.Ring.Owners[tr.Partition] != "n1" || p.Next[tr.Partition] != tr.To {
			t.Fatalf("pending transfer %+v", tr)
		}
	}
	if len(s.Ring.Pending) != 64-count(p.Next, "n1") {
		t.Fatalf("%d pending, want %d", len(s.Ring.Pending), 64-count(p.Next, "n1"))
	}
	if s.Members["n3"].State != Exiting {
		t.Fatalf("n3 is %s", s.Members["n3"].State)
	}
	if s.Ring.Epoch != 3 {
		t.Fatalf("epoch %d, want 3", s.Ring.Epoch)
	}
}

func TestPlanErrors(t *testing.T) {
	if _, err := ComputePlan(NewState(node.DefaultProps())); err != ErrNoRing {
		t.Fatalf("no ring: %v", err)
	}
	s := newCluster(t)
	if _, err := ComputePlan(s); err != ErrNothingStaged {
		t.Fatalf("nothing staged: %v", err)
	}
}

func ExampleComputePlan() {
	s := NewState(node.DefaultProps())
	apply := func(op Op, body any) {
		data, _ := Encode(op, body)
		cmd, _ := DecodeCommand(data)
		if err := applyCommand(s, cmd, &Result{}); err != nil {
			panic(err)
		}
	}
	apply(OpInit, InitCmd{RingSize: 64, TargetN: 3, First: Member{ID: "n1"}})
	for _, id := range []string{"n2", "n3", "n4"} {
		apply(OpRegister, RegisterCmd{Member: Member{ID: id}})
		apply(OpStage, Change{Kind: ChangeJoin, Node: id})
	}
	p, _ := ComputePlan(s)
	for _, np := range p.Nodes {
		fmt.Printf("%s %s %.2f%% -> %.2f%%\n", np.ID, np.State, np.RingPct, np.NextPct)
	}
	fmt.Println(p.Transfers[0].From, "hands off", p.Transfers[0].Partitions, "partitions to", p.Transfers[0].To)
	// Output:
	// n1 valid 100.00% -> 25.00%
	// n2 valid 0.00% -> 25.00%
	// n3 valid 0.00% -> 25.00%
	// n4 valid 0.00% -> 25.00%
	// n1 hands off 16 partitions to n2
}
