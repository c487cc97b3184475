package adminapi

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/handoff"
	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/node"
)

// Fake is an in-memory Cluster, Transfers, AAE and Liveness for tests of
// the API and of its clients. It checks staged changes and bucket props
// about as the Raft group does, but plans nothing: Plan and Commit return
// PlanResult, or a plan that moves no partition. Its transfers are
// TransferStatuses, which ControlTransfer changes as a node's scheduler
// would, without a clock (Since stays as it was). Its anti-entropy is
// AntiEntropy, whose Enabled and Window ControlAAE sets. Its Raft leader
// is Raft.Leader (or the server at Raft.LeaderAddr), and the nodes it
// reports down are DownNodes.
//
// Preset the exported fields before the fake is shared; read them once
// the calls that change them have returned (an HTTP round trip orders
// them). Methods are safe for concurrent use.
type Fake struct {
	mu sync.Mutex

	Raft          meta.RaftStatus
	MemberList    []meta.Member
	RingState     *meta.RingState // nil: meta.ErrNoRing
	StagedChanges []meta.Change
	// PlanResult, when set, is what Plan and Commit return while changes
	// are staged. Commit then records a pending transfer for every
	// partition whose Next owner is not its owner.
	PlanResult  *meta.Plan
	BucketTypes map[string]meta.BucketType
	// TransferStatuses are what ListTransfers reports (in any order; it
	// sorts) and ControlTransfer acts on; Unreachable, the members it says
	// did not answer; Behind, those it says answered from an older ring;
	// RingUnconfirmed, why it says the newest ring was not confirmed.
	TransferStatuses []handoff.Status
	Unreachable      []string
	Behind           []string
	RingUnconfirmed  string
	// AntiEntropy is what AAEStatus returns (as the API answers it once
	// sorted) and ControlAAE changes.
	AntiEntropy antientropy.Status
	// DownNodes are the nodes Up reports down.
	DownNodes []string
	// Calls names every method called, in order ("Stage", "Commit" …),
	// but Up, which cannot fail and is called once per member.
	Calls []string

	errs []error
}

var (
	_ Cluster   = (*Fake)(nil)
	_ Transfers = (*Fake)(nil)
	_ AAE       = (*Fake)(nil)
	_ Liveness  = (*Fake)(nil)
)

// NewFake returns a Fake with only the default bucket type, active, no
// members, no ring, and anti-entropy enabled at any time on no partition.
func NewFake() *Fake {
	return &Fake{
		BucketTypes: map[string]meta.BucketType{
			"default": {Name: "default", Props: node.DefaultProps(), Active: true},
		},
		AntiEntropy: antientropy.Status{Enabled: true, Window: "always"},
	}
}

// FailNext makes the next call, whatever the method, return err and
// change nothing. Errors queue: FailNext twice fails two calls, and
// FailNext(nil) lets one call through so that a later one fails.
func (f *Fake) FailNext(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, err)
}

// begin records the call and returns a queued error. The caller holds mu.
func (f *Fake) begin(method string) error {
	f.Calls = append(f.Calls, method)
	if len(f.errs) == 0 {
		return nil
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	return err
}

func (f *Fake) RaftStatus(ctx context.Context) (meta.RaftStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("RaftStatus"); err != nil {
		return meta.RaftStatus{}, err
	}
	st := f.Raft
	st.Servers = slices.Clone(st.Servers)
	return st, nil
}

func (f *Fake) RemovePeer(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("RemovePeer"); err != nil {
		return err
	}
	i := slices.IndexFunc(f.Raft.Servers, func(s meta.RaftServer) bool { return s.ID == id })
	if i < 0 {
		return fmt.Errorf("%w: %q is not in the raft configuration", meta.ErrUnknownMember, id)
	}
	f.Raft.Servers = slices.Delete(slices.Clone(f.Raft.Servers), i, i+1)
	return nil
}

func (f *Fake) Members(ctx context.Context) ([]meta.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Members"); err != nil {
		return nil, err
	}
	ms := slices.Clone(f.MemberList)
	slices.SortFunc(ms, func(x, y meta.Member) int { return strings.Compare(x.ID, y.ID) })
	return ms, nil
}

func (f *Fake) Ring(ctx context.Context) (*meta.RingState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Ring"); err != nil {
		return nil, err
	}
	if f.RingState == nil {
		return nil, meta.ErrNoRing
	}
	return cloneRing(f.RingState), nil
}

func (f *Fake) Staged(ctx context.Context) ([]meta.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Staged"); err != nil {
		return nil, err
	}
	return slices.Clone(f.StagedChanges), nil
}

func (f *Fake) Stage(ctx context.Context, c meta.Change) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Stage"); err != nil {
		return err
	}
	m := f.member(c.Node)
	if m == nil {
		return fmt.Errorf("%w: %q", meta.ErrUnknownMember, c.Node)
	}
	for _, s := range f.StagedChanges {
		if s.Node == c.Node || (s.Target != "" && s.Target == c.Node) {
			return fmt.Errorf("%w: %s already has a staged change", meta.ErrBadChange, c.Node)
		}
	}
	switch c.Kind {
	case meta.ChangeJoin:
		if m.State != meta.Joining {
			return fmt.Errorf("%w: %s is %s, not joining", meta.ErrBadChange, c.Node, m.State)
		}
	case meta.ChangeLeave, meta.ChangeForceRemove:
		if m.State == meta.Joining {
			return fmt.Errorf("%w: %s has not joined", meta.ErrBadChange, c.Node)
		}
	case meta.ChangeReplace, meta.ChangeForceReplace:
		t := f.member(c.Target)
		if t == nil {
			return fmt.Errorf("%w: %q", meta.ErrUnknownMember, c.Target)
		}
		if t.State != meta.Joining {
			return fmt.Errorf("%w: replacement %s is %s, not joining", meta.ErrBadChange, c.Target, t.State)
		}
	default:
		return fmt.Errorf("%w: unknown kind %q", meta.ErrBadChange, c.Kind)
	}
	f.StagedChanges = append(slices.Clone(f.StagedChanges), c)
	return nil
}

func (f *Fake) Plan(ctx context.Context) (*meta.Plan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Plan"); err != nil {
		return nil, err
	}
	return f.plan()
}

func (f *Fake) Commit(ctx context.Context) (*meta.Plan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Commit"); err != nil {
		return nil, err
	}
	p, err := f.plan()
	if err != nil {
		return nil, err
	}
	f.MemberList = slices.Clone(f.MemberList)
	for _, c := range p.Changes {
		f.apply(c)
	}
	r := cloneRing(f.RingState)
	r.Epoch++
	if len(p.Next) == len(r.Owners) {
		for part, to := range p.Next {
			if to != r.Owners[part] {
				r.Pending = append(r.Pending, meta.Transfer{Partition: part, From: r.Owners[part], To: to})
			}
		}
	}
	f.RingState = r
	f.StagedChanges = nil
	f.PlanResult = nil
	return p, nil
}

// plan is PlanResult, or a plan that moves nothing. The caller holds mu.
func (f *Fake) plan() (*meta.Plan, error) {
	if f.RingState == nil {
		return nil, meta.ErrNoRing
	}
	if len(f.StagedChanges) == 0 {
		return nil, meta.ErrNothingStaged
	}
	if f.PlanResult != nil {
		p := *f.PlanResult
		p.Changes = slices.Clone(p.Changes)
		p.Nodes = slices.Clone(p.Nodes)
		p.Transfers = slices.Clone(p.Transfers)
		p.Next = slices.Clone(p.Next)
		p.Warnings = slices.Clone(p.Warnings)
		return &p, nil
	}
	r := f.RingState
	p := &meta.Plan{Epoch: r.Epoch, Changes: slices.Clone(f.StagedChanges), Next: slices.Clone(r.Owners)}
	s := SummarizeRing(r, f.MemberList)
	for _, o := range s.Owners {
		st := meta.Valid
		if m := f.member(o.Node); m != nil {
			st = m.State
		}
		p.Nodes = append(p.Nodes, meta.NodePlan{ID: o.Node, State: st,
			RingPct: o.Pct, NextPct: o.Pct, Partitions: o.Partitions, Next: o.Partitions})
	}
	return p, nil
}

// apply moves members' states as a commit of c would. The caller holds mu
// and has made MemberList its own.
func (f *Fake) apply(c meta.Change) {
	set := func(id string, st meta.MemberState) {
		if m := f.member(id); m != nil {
			m.State = st
		}
	}
	switch c.Kind {
	case meta.ChangeJoin:
		set(c.Node, meta.Valid)
	case meta.ChangeLeave:
		set(c.Node, meta.Leaving)
	case meta.ChangeForceRemove:
		set(c.Node, meta.Exiting)
	case meta.ChangeReplace:
		set(c.Node, meta.Leaving)
		set(c.Target, meta.Valid)
	case meta.ChangeForceReplace:
		set(c.Node, meta.Exiting)
		set(c.Target, meta.Valid)
	}
}

// member returns the member named id, or nil. The caller holds mu.
func (f *Fake) member(id string) *meta.Member {
	i := slices.IndexFunc(f.MemberList, func(m meta.Member) bool { return m.ID == id })
	if i < 0 {
		return nil
	}
	return &f.MemberList[i]
}

func (f *Fake) Clear(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Clear"); err != nil {
		return err
	}
	f.StagedChanges = nil
	return nil
}

func (f *Fake) Types(ctx context.Context) ([]meta.BucketType, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Types"); err != nil {
		return nil, err
	}
	ts := slices.Collect(maps.Values(f.BucketTypes))
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	return ts, nil
}

func (f *Fake) Type(ctx context.Context, name string) (meta.BucketType, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Type"); err != nil {
		return meta.BucketType{}, err
	}
	return f.lookupType(name)
}

func (f *Fake) CreateType(ctx context.Context, name string, props []byte) (meta.BucketType, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("CreateType"); err != nil {
		return meta.BucketType{}, err
	}
	if name == "" {
		return meta.BucketType{}, fmt.Errorf("%w: empty bucket type name", meta.ErrBadCommand)
	}
	if _, ok := f.BucketTypes[name]; ok {
		return meta.BucketType{}, fmt.Errorf("%w: %q", meta.ErrTypeExists, name)
	}
	p, err := mergeProps(node.DefaultProps(), props)
	if err != nil {
		return meta.BucketType{}, err
	}
	t := meta.BucketType{Name: name, Props: p}
	f.setType(t)
	return t, nil
}

func (f *Fake) ActivateType(ctx context.Context, name string) (meta.BucketType, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("ActivateType"); err != nil {
		return meta.BucketType{}, err
	}
	t, err := f.lookupType(name)
	if err != nil {
		return t, err
	}
	t.Active = true
	f.setType(t)
	return t, nil
}

func (f *Fake) UpdateType(ctx context.Context, name string, props []byte) (meta.BucketType, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("UpdateType"); err != nil {
		return meta.BucketType{}, err
	}
	t, err := f.lookupType(name)
	if err != nil {
		return t, err
	}
	p, err := mergeProps(t.Props, props)
	if err != nil {
		return meta.BucketType{}, err
	}
	if p.Consistent != t.Props.Consistent {
		return meta.BucketType{}, fmt.Errorf("%w: consistent is fixed when a type is created", node.ErrBadProps)
	}
	t.Props = p
	f.setType(t)
	return t, nil
}

func (f *Fake) lookupType(name string) (meta.BucketType, error) {
	t, ok := f.BucketTypes[name]
	if !ok {
		return meta.BucketType{}, fmt.Errorf("%w: %q", node.ErrUnknownBucketType, name)
	}
	return t, nil
}

// setType stores t in a private copy of BucketTypes. The caller holds mu.
func (f *Fake) setType(t meta.BucketType) {
	f.BucketTypes = maps.Clone(f.BucketTypes)
	if f.BucketTypes == nil {
		f.BucketTypes = make(map[string]meta.BucketType)
	}
	f.BucketTypes[t.Name] = t
}

func (f *Fake) ListTransfers(ctx context.Context) (node.TransferReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("ListTransfers"); err != nil {
		return node.TransferReport{}, err
	}
	list := slices.Clone(f.TransferStatuses)
	slices.SortStableFunc(list, func(x, y handoff.Status) int { return strings.Compare(x.ID.String(), y.ID.String()) })
	return node.TransferReport{List: list, Unreachable: sortedCopy(f.Unreachable), Behind: sortedCopy(f.Behind),
		RingUnconfirmed: f.RingUnconfirmed}, nil
}

// ControlTransfer pauses, resumes or cancels a transfer of
// TransferStatuses as handoff.Scheduler.Control does: cancel drops its
// progress, resume makes a paused, cancelled or retrying transfer
// waiting.
func (f *Fake) ControlTransfer(ctx context.Context, id handoff.ID, action handoff.Action) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("ControlTransfer"); err != nil {
		return err
	}
	i := slices.IndexFunc(f.TransferStatuses, func(s handoff.Status) bool { return s.ID == id })
	if i < 0 {
		return fmt.Errorf("%w: %s", handoff.ErrNoTransfer, id)
	}
	s := f.TransferStatuses[i]
	switch action {
	case handoff.Pause:
		if s.State != handoff.Cancelled {
			s.State = handoff.Paused
		}
	case handoff.Resume:
		if s.State == handoff.Paused || s.State == handoff.Cancelled || s.State == handoff.Retrying {
			s.State, s.RetryAt = handoff.Waiting, time.Time{}
		}
	case handoff.Cancel:
		s.State = handoff.Cancelled
		s.Keys, s.Bytes, s.TotalKeys, s.Rate, s.ETA = 0, 0, 0, 0, 0
	case handoff.Drop:
		if id.Kind != handoff.Hinted {
			return fmt.Errorf("%w: only hinted transfers can be dropped", handoff.ErrBadAction)
		}
		f.TransferStatuses = slices.Delete(slices.Clone(f.TransferStatuses), i, i+1)
		return nil
	default:
		return fmt.Errorf("%w %q", handoff.ErrBadAction, action)
	}
	f.TransferStatuses = slices.Clone(f.TransferStatuses)
	f.TransferStatuses[i] = s
	return nil
}

// Up implements Liveness: a node is up unless DownNodes has it. FailNext
// does not apply to it.
func (f *Fake) Up(node string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !slices.Contains(f.DownNodes, node)
}

func (f *Fake) AAEStatus(ctx context.Context) (antientropy.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("AAEStatus"); err != nil {
		return antientropy.Status{}, err
	}
	return cloneAAE(f.AntiEntropy), nil
}

// ControlAAE sets AntiEntropy's Enabled and Window from c's non-nil
// fields; the window as antientropy.ParseWindow reads it, spelt as
// Window.String does.
func (f *Fake) ControlAAE(ctx context.Context, c antientropy.Control) (antientropy.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("ControlAAE"); err != nil {
		return antientropy.Status{}, err
	}
	if c.Window != nil {
		w, err := antientropy.ParseWindow(*c.Window)
		if err != nil {
			return antientropy.Status{}, err
		}
		f.AntiEntropy.Window = w.String()
	}
	if c.Enabled != nil {
		f.AntiEntropy.Enabled = *c.Enabled
	}
	return cloneAAE(f.AntiEntropy), nil
}

func cloneAAE(st antientropy.Status) antientropy.Status {
	st.Partitions = slices.Clone(st.Partitions)
	for i := range st.Partitions {
		st.Partitions[i].Exchanges = slices.Clone(st.Partitions[i].Exchanges)
	}
	return st
}

func mergeProps(p node.Props, raw []byte) (node.Props, error) {
	p, err := p.Merge(raw)
	if err != nil {
		return p, err
	}
	return p, p.Validate()
}

func cloneRing(r *meta.RingState) *meta.RingState {
	c := *r
	c.Owners = slices.Clone(r.Owners)
	c.Pending = slices.Clone(r.Pending)
	return &c
}
