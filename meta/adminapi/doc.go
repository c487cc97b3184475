// Package adminapi serves cairn's admin HTTP API, the JSON API that
// cairnctl speaks: the Raft group, cluster membership and ring changes
// (stage, plan, commit, as Riak's `riak-admin cluster`), and bucket types
// (as `riak-admin bucket-type`). It holds no state: every request is one
// or a few calls on a Cluster.
//
// # Endpoints
//
//	GET   /admin/raft                   meta.RaftStatus
//	POST  /admin/raft/remove-peer       RemovePeerRequest {"id":"n3"} → 204
//	GET   /admin/cluster                ClusterStatus: members, ring summary, staged changes,
//	                                    Raft leader, members down (from a Liveness)
//	GET   /admin/ring                   meta.RingState
//	GET   /admin/cluster/staged         []meta.Change
//	POST  /admin/cluster/stage          meta.Change {"kind":"join","node":"n2"} → 204
//	GET   /admin/cluster/plan           meta.Plan
//	POST  /admin/cluster/commit         the committed meta.Plan
//	POST  /admin/cluster/clear          204
//	GET   /admin/types                  []meta.BucketType
//	GET   /admin/types/{name}           meta.BucketType
//	PUT   /admin/types/{name}           TypeRequest {"props":{…}}, props optional → 201 + meta.BucketType
//	PATCH /admin/types/{name}           TypeRequest {"props":{…}} → meta.BucketType
//	POST  /admin/types/{name}/activate  meta.BucketType
//	GET   /admin/transfers              TransferList: every transfer, unreachable members, counts
//	POST  /admin/transfer/{action}      TransferRequest {"id":"ownership/5/n1/n2"}, action
//	                                    pause, resume or cancel → 204
//	GET   /admin/ring-status            RingStatus: each partition's owner, next owner, transfer
//	                                    and what its move waits on
//	GET   /admin/aae                    antientropy.Status of this node
//	POST  /admin/aae                    antientropy.Control {"enabled":false}, {"window":"02:00-06:00"}
//	                                    (at least one field) → the new antientropy.Status
//
// GET paths answer HEAD too. The transfer endpoints need a Transfers and
// the anti-entropy endpoints an AAE (NewWithServices); without one they
// answer 501. Anti-entropy is per node: /admin/aae answers for the node
// that serves it. /admin/cluster reports the members down as the node's
// Liveness (its gossip) sees them, with "liveness":"gossip"; without a
// Liveness, "liveness":"unknown" and no member down.
//
// # Invariants
//
//   - Every answer other than 204 is JSON; an error is ErrorResponse,
//     {"error":"<message>"}, whatever the path.
//   - A request body is read through http.MaxBytesReader: nothing beyond
//     MaxBodySize is buffered (413). It is decoded strictly: unknown
//     fields, trailing data or a second value are a 400, so that a typo
//     never passes silently.
//   - Handlers pass r.Context() to the Cluster. A panic in a Cluster call
//     is logged with its stack and answered 500; it never escapes.
//
// # Status codes
//
//	200  answered
//	201  bucket type created (Location names it)
//	204  peer removed, change staged, staged changes cleared
//	400  malformed JSON, unknown field; node.ErrBadProps, node.ErrBadRequest,
//	     meta.ErrBadChange, meta.ErrBadCommand, handoff.ErrBadID,
//	     handoff.ErrBadAction, antientropy.ErrBadWindow; an empty
//	     anti-entropy control
//	404  unknown path; meta.ErrUnknownMember, node.ErrUnknownBucketType,
//	     meta.ErrNoRing, node.ErrNotFound, handoff.ErrNoTransfer
//	405  method not allowed on the path (with an Allow header)
//	409  meta.ErrTypeExists, meta.ErrStaleEpoch, meta.ErrNothingStaged,
//	     node.ErrConflict
//	413  body larger than MaxBodySize
//	501  a transfer endpoint of an API without Transfers, an anti-entropy
//	     endpoint of an API without AAE
//	503  node.ErrUnavailable (meta.ErrNoQuorum and meta.ErrNotLeader wrap
//	     it), node.ErrClosed, a context deadline or cancellation
//	500  anything else (logged)
//
// # Usage
//
//	mux := http.NewServeMux()
//	mux.Handle("/admin/", adminapi.NewWithServices(group,
//		adminapi.Services{Transfers: transfers, AAE: aae, Liveness: gossip}, logger))
//
// Tests serve New(NewFake()), an in-memory Cluster whose state they preset
// and which can fail its next call (Fake.FailNext); the Fake is a
// Transfers, an AAE and a Liveness too: NewWithServices(f,
// Services{Transfers: f, AAE: f, Liveness: f}, nil).
package adminapi
