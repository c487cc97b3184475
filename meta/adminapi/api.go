package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/node"
)

// MaxBodySize bounds a request body. The largest request, a bucket
// type's props, is a few hundred bytes.
const MaxBodySize = 1 << 20

// endpoint answers one method on one path: the status and the value to
// encode (ignored with 204), or an error.
type endpoint func(w http.ResponseWriter, r *http.Request) (int, any, error)

type api struct {
	c        Cluster
	t        Transfers // nil: the transfer endpoints answer 501
	aae      AAE       // nil: the anti-entropy endpoints answer 501
	liveness Liveness  // nil: /admin/cluster reports liveness unknown
	log      *slog.Logger
}

// Services are what the admin API answers from besides the Cluster. Each
// one may be nil.
type Services struct {
	// Transfers answers /admin/transfers, /admin/transfer/{action} and
	// /admin/ring-status; without it they answer 501.
	Transfers Transfers
	// AAE answers /admin/aae; without it, 501.
	AAE AAE
	// Liveness tells which members /admin/cluster reports down; without
	// it, that answer's liveness is LivenessUnknown and down is empty.
	Liveness Liveness
}

// New returns the admin API's handler. It answers paths under /admin/ and
// a JSON 404 for any other; mount it at "/admin/" or at the root. A nil
// logger discards. The endpoints of Services answer 501: see
// NewWithServices.
func New(c Cluster, logger *slog.Logger) http.Handler {
	return NewWithServices(c, Services{}, logger)
}

// NewWithTransfers is NewWithServices with only Transfers.
func NewWithTransfers(c Cluster, t Transfers, logger *slog.Logger) http.Handler {
	return NewWithServices(c, Services{Transfers: t}, logger)
}

// NewWithServices is New with the endpoints of s's services answered
// from them; those of a nil service answer 501.
func NewWithServices(c Cluster, s Services, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &api{c: c, t: s.Transfers, aae: s.AAE, liveness: s.Liveness, log: logger}
	mux := http.NewServeMux()
	for path, methods := range map[string]map[string]endpoint{
		"/admin/raft":                  {http.MethodGet: a.raftStatus},
		"/admin/raft/remove-peer":      {http.MethodPost: a.removePeer},
		"/admin/cluster":               {http.MethodGet: a.clusterStatus},
		"/admin/ring":                  {http.MethodGet: a.ring},
		"/admin/cluster/staged":        {http.MethodGet: a.staged},
		"/admin/cluster/stage":         {http.MethodPost: a.stage},
		"/admin/cluster/plan":          {http.MethodGet: a.plan},
		"/admin/cluster/commit":        {http.MethodPost: a.commit},
		"/admin/cluster/clear":         {http.MethodPost: a.clear},
		"/admin/types":                 {http.MethodGet: a.types},
		"/admin/types/{name}":          {http.MethodGet: a.getType, http.MethodPut: a.createType, http.MethodPatch: a.updateType},
		"/admin/types/{name}/activate": {http.MethodPost: a.activateType},
		"/admin/transfers":             {http.MethodGet: a.transfers},
		"/admin/transfer/{action}":     {http.MethodPost: a.controlTransfer},
		"/admin/ring-status":           {http.MethodGet: a.ringStatus},
		"/admin/aae":                   {http.MethodGet: a.aaeStatus, http.MethodPost: a.controlAAE},
	} {
		mux.Handle(path, a.resource(methods))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, errStatus(http.StatusNotFound, "adminapi: no such path %s", r.URL.EscapedPath()))
	})
	return mux
}

// resource dispatches on the method, answering 405 with Allow for one the
// path does not serve. The routing is ours rather than the ServeMux's
// method patterns so that a 405 is JSON like every other error.
func (a *api) resource(methods map[string]endpoint) http.Handler {
	allowed := make([]string, 0, len(methods)+1)
	for m := range methods {
		allowed = append(allowed, m)
	}
	if _, ok := methods[http.MethodGet]; ok {
		allowed = append(allowed, http.MethodHead)
	}
	slices.Sort(allowed)
	allow := strings.Join(allowed, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep, ok := methods[r.Method]
		if !ok && r.Method == http.MethodHead {
			ep, ok = methods[http.MethodGet]
		}
		if !ok {
			w.Header().Set("Allow", allow)
			a.writeError(w, r, errStatus(http.StatusMethodNotAllowed,
				"adminapi: method %s not allowed on %s (allowed: %s)", r.Method, r.URL.EscapedPath(), allow))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodySize)
		status, v, err := a.call(ep, w, r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		a.writeJSON(w, status, v)
	})
}

// call runs ep, turning a panic into an error: nothing has been written
// yet, so the client still gets a 500.
func (a *api) call(ep endpoint, w http.ResponseWriter, r *http.Request) (status int, v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			a.log.Error("adminapi: panic", "method", r.Method, "path", r.URL.EscapedPath(),
				"panic", p, "stack", string(debug.Stack()))
			status, v, err = 0, nil, fmt.Errorf("adminapi: internal error: %v", p)
		}
	}()
	return ep(w, r)
}

// decode reads r's body as one JSON value into v, rejecting unknown
// fields and trailing data. With optional, an empty body leaves v as it is.
func decode(r *http.Request, v any, optional bool) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return err
		case errors.Is(err, io.EOF) && optional:
			return nil
		case errors.Is(err, io.EOF):
			return errStatus(http.StatusBadRequest, "adminapi: empty request body, want a JSON object")
		}
		return errStatus(http.StatusBadRequest, "adminapi: malformed JSON body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return errStatus(http.StatusBadRequest, "adminapi: malformed JSON body: data after the JSON value")
	}
	return nil
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (a *api) raftStatus(w http.ResponseWriter, r *http.Request) (int, any, error) {
	st, err := a.c.RaftStatus(r.Context())
	st.Servers = nonNil(st.Servers)
	return http.StatusOK, st, err
}

func (a *api) removePeer(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var req RemovePeerRequest
	if err := decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	if req.ID == "" {
		return 0, nil, errStatus(http.StatusBadRequest, `adminapi: remove-peer needs a server id: {"id":"n3"}`)
	}
	return http.StatusNoContent, nil, a.c.RemovePeer(r.Context(), req.ID)
}

func (a *api) clusterStatus(w http.ResponseWriter, r *http.Request) (int, any, error) {
	ctx := r.Context()
	members, err := a.c.Members(ctx)
	if err != nil {
		return 0, nil, err
	}
	ring, err := a.c.Ring(ctx)
	if err != nil && !errors.Is(err, meta.ErrNoRing) {
		return 0, nil, err
	}
	staged, err := a.c.Staged(ctx)
	if err != nil {
		return 0, nil, err
	}
	// The leader does not fail the answer: a node whose Raft cannot
	// report its configuration still knows whom it follows, and the
	// members' state matters most when the Raft group is in trouble.
	raft, err := a.c.RaftStatus(ctx)
	if err != nil {
		a.log.Warn("adminapi: cluster status: raft status", "err", err, "leader", raft.Leader)
	}
	slices.SortFunc(members, func(x, y meta.Member) int { return strings.Compare(x.ID, y.ID) })
	st := ClusterStatus{
		Members:  nonNil(members),
		Ring:     SummarizeRing(ring, members),
		Staged:   nonNil(staged),
		Leader:   leaderID(raft),
		Down:     []string{},
		Liveness: LivenessUnknown,
	}
	if a.liveness != nil {
		st.Liveness = LivenessGossip
		for _, m := range members {
			if !a.liveness.Up(m.ID) {
				st.Down = append(st.Down, m.ID) // sorted, as members are
			}
		}
	}
	return http.StatusOK, st, nil
}

// leaderID is the id of st's leader, which is its member id: Raft server
// ids are member ids. A status that names only the leader's address is
// mapped through the servers of the configuration.
func leaderID(st meta.RaftStatus) string {
	if st.Leader != "" || st.LeaderAddr == "" {
		return st.Leader
	}
	for _, s := range st.Servers {
		if s.Address == st.LeaderAddr {
			return s.ID
		}
	}
	return ""
}

func (a *api) ring(w http.ResponseWriter, r *http.Request) (int, any, error) {
	ring, err := a.c.Ring(r.Context())
	if err == nil && ring == nil {
		err = meta.ErrNoRing
	}
	return http.StatusOK, ring, err
}

func (a *api) staged(w http.ResponseWriter, r *http.Request) (int, any, error) {
	staged, err := a.c.Staged(r.Context())
	return http.StatusOK, nonNil(staged), err
}

func (a *api) stage(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var c meta.Change
	if err := decode(r, &c, false); err != nil {
		return 0, nil, err
	}
	if err := checkChange(c); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, a.c.Stage(r.Context(), c)
}

// checkChange rejects what no cluster state could accept, with a message
// that says what a well-formed change looks like.
func checkChange(c meta.Change) error {
	switch c.Kind {
	case meta.ChangeJoin, meta.ChangeLeave, meta.ChangeForceRemove:
		if c.Target != "" {
			return fmt.Errorf("%w: %s takes no target", meta.ErrBadChange, c.Kind)
		}
	case meta.ChangeReplace, meta.ChangeForceReplace:
		if c.Target == "" {
			return fmt.Errorf("%w: %s needs a target node", meta.ErrBadChange, c.Kind)
		}
		if c.Target == c.Node {
			return fmt.Errorf("%w: cannot %s %s with itself", meta.ErrBadChange, c.Kind, c.Node)
		}
	default:
		return fmt.Errorf("%w: unknown kind %q, want join, leave, force-remove, replace or force-replace",
			meta.ErrBadChange, c.Kind)
	}
	if c.Node == "" {
		return fmt.Errorf("%w: %s needs a node", meta.ErrBadChange, c.Kind)
	}
	return nil
}

func (a *api) plan(w http.ResponseWriter, r *http.Request) (int, any, error) {
	p, err := a.c.Plan(r.Context())
	return http.StatusOK, p, err
}

func (a *api) commit(w http.ResponseWriter, r *http.Request) (int, any, error) {
	p, err := a.c.Commit(r.Context())
	return http.StatusOK, p, err
}

func (a *api) clear(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return http.StatusNoContent, nil, a.c.Clear(r.Context())
}

func (a *api) types(w http.ResponseWriter, r *http.Request) (int, any, error) {
	ts, err := a.c.Types(r.Context())
	return http.StatusOK, nonNil(ts), err
}

func (a *api) getType(w http.ResponseWriter, r *http.Request) (int, any, error) {
	t, err := a.c.Type(r.Context(), r.PathValue("name"))
	return http.StatusOK, t, err
}

func (a *api) createType(w http.ResponseWriter, r *http.Request) (int, any, error) {
	props, err := decodeProps(r, true)
	if err != nil {
		return 0, nil, err
	}
	name := r.PathValue("name")
	t, err := a.c.CreateType(r.Context(), name, props)
	if err != nil {
		return 0, nil, err
	}
	w.Header().Set("Location", typePath(name))
	return http.StatusCreated, t, nil
}

func (a *api) updateType(w http.ResponseWriter, r *http.Request) (int, any, error) {
	props, err := decodeProps(r, false)
	if err != nil {
		return 0, nil, err
	}
	t, err := a.c.UpdateType(r.Context(), r.PathValue("name"), props)
	return http.StatusOK, t, err
}

func (a *api) activateType(w http.ResponseWriter, r *http.Request) (int, any, error) {
	t, err := a.c.ActivateType(r.Context(), r.PathValue("name"))
	return http.StatusOK, t, err
}

// decodeProps reads a TypeRequest and returns its props object; absent
// props are {} when optional.
func decodeProps(r *http.Request, optional bool) ([]byte, error) {
	var req TypeRequest
	if err := decode(r, &req, optional); err != nil {
		return nil, err
	}
	props := bytes.TrimSpace(req.Props)
	if len(props) == 0 || bytes.Equal(props, []byte("null")) {
		if !optional {
			return nil, fmt.Errorf(`%w: want a body {"props":{...}}`, node.ErrBadProps)
		}
		return []byte("{}"), nil
	}
	if props[0] != '{' {
		return nil, fmt.Errorf("%w: props must be a JSON object, got %s", node.ErrBadProps, abbreviate(props))
	}
	return props, nil
}

// abbreviate keeps an echoed value short.
func abbreviate(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// typePath is the path of a bucket type, for Location.
func typePath(name string) string { return "/admin/types/" + url.PathEscape(name) }
