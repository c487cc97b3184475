package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
)

// Listing keys or buckets is a full scan of the node's partitions (see
// node.KV.ListKeys): expensive, as in Riak, so it must be asked for
// explicitly with keys=true|stream or buckets=true|stream.

// listKeys answers GET …/buckets/B/keys?keys=true|stream.
func (a *API) listKeys(w http.ResponseWriter, r *http.Request, rt route, q query) error {
	return a.list(w, r, "keys", q.keys, func(ctx context.Context, fn func(string) error) error {
		return a.kv.ListKeys(ctx, rt.typ, rt.bucket, fn)
	})
}

// listBuckets answers GET …/buckets?buckets=true|stream.
func (a *API) listBuckets(w http.ResponseWriter, r *http.Request, rt route, q query) error {
	return a.list(w, r, "buckets", q.buckets, func(ctx context.Context, fn func(string) error) error {
		return a.kv.ListBuckets(ctx, rt.typ, fn)
	})
}

// list answers {"<field>":[…]} whole (mode "true") or as a stream of such
// objects back to back, one per batch (mode "stream"), as Riak does.
func (a *API) list(w http.ResponseWriter, r *http.Request, field, mode string,
	scan func(context.Context, func(string) error) error) error {
	switch mode {
	case "true":
		names := []string{}
		if err := scan(r.Context(), func(s string) error {
			names = append(names, s)
			return nil
		}); err != nil {
			return err
		}
		writeJSON(w, a.log, map[string][]string{field: names})
		return nil
	case "stream":
		s := &listStream{w: w, field: field, batch: make([]string, 0, a.cfg.ListBatchSize)}
		err := scan(r.Context(), s.add)
		if err == nil {
			err = s.finish()
		}
		if err != nil && s.started {
			// The 200 is out: a status can no longer say it failed. Abort
			// the connection so the client sees a broken chunked stream,
			// not a short list it would take for the whole.
			a.log.Warn("httpapi: streamed listing failed", "path", r.URL.EscapedPath(), "err", err)
			panic(http.ErrAbortHandler)
		}
		return err
	}
	return errStatus(http.StatusBadRequest,
		"expected ?%[1]s=true or ?%[1]s=stream: listing %[1]s scans every key on the node, so it must be asked for", field)
}

// listStream writes {"<field>":[…]} objects, one per full batch, flushing
// each. Nothing is sent before the first batch, so an early error still
// gets its own status.
type listStream struct {
	w       http.ResponseWriter
	field   string
	batch   []string
	started bool
}

func (s *listStream) add(name string) error {
	s.batch = append(s.batch, name)
	if len(s.batch) == cap(s.batch) {
		return s.flush()
	}
	return nil
}

// finish sends the last batch; an empty listing is one {"<field>":[]}.
func (s *listStream) finish() error {
	if len(s.batch) > 0 || !s.started {
		return s.flush()
	}
	return nil
}

func (s *listStream) flush() error {
	b, err := json.Marshal(map[string][]string{s.field: s.batch})
	if err != nil {
		return err
	}
	if !s.started {
		s.w.Header().Set("Content-Type", "application/json")
		s.w.WriteHeader(http.StatusOK)
		s.started = true
	}
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	s.batch = s.batch[:0]
	return http.NewResponseController(s.w).Flush()
}
