package httpapi

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

// liveContents returns the siblings of o that are not tombstones, in o's
// order. A nil object has none.
func liveContents(o *object.Object) []object.Content {
	if o == nil {
		return nil
	}
	var live []object.Content
	for _, c := range o.Values() {
		if !c.Deleted {
			live = append(live, c)
		}
	}
	return live
}

func vtags(cs []object.Content) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.VTag
	}
	return out
}

// latest is the last modification among cs, as Riak reports for siblings.
func latest(cs []object.Content) time.Time {
	var t time.Time
	for _, c := range cs {
		if c.LastModified.After(t) {
			t = c.LastModified
		}
	}
	return t
}

// writeObject answers with sel, the live siblings of obj the request
// selected: the value itself when there is one, 300 otherwise.
func writeObject(w http.ResponseWriter, r *http.Request, rt route, obj *object.Object, sel []object.Content, status int) {
	setVclock(w.Header(), obj, rt.location())
	if len(sel) == 1 {
		writeContent(w, r, rt, sel[0], status)
		return
	}
	writeSiblings(w, r, rt, sel)
}

// writeContent answers one sibling: its value as the body, what describes
// it as headers.
func writeContent(w http.ResponseWriter, r *http.Request, rt route, c object.Content, status int) {
	h := w.Header()
	h.Set("Content-Type", formatContentType(c))
	if c.ContentEncoding != "" {
		h.Set("Content-Encoding", sanitizeHeaderValue(c.ContentEncoding))
	}
	h.Set("Etag", formatETag(c.VTag))
	if lm := formatLastModified(c.LastModified); lm != "" {
		h.Set("Last-Modified", lm)
	}
	h.Set("Link", formatLinks(c.Links, rt))
	for _, kv := range metaHeaders(c.Meta) {
		h.Set(kv[0], kv[1])
	}
	h.Set("Content-Length", strconv.Itoa(len(c.Value)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(c.Value)
	}
}

// writeSiblings answers 300 Multiple Choices: a multipart/mixed body with
// one part per sibling when the client accepts it, else Riak's text list
// of vtags, each fetchable with ?vtag=.
func writeSiblings(w http.ResponseWriter, r *http.Request, rt route, sibs []object.Content) {
	h := w.Header()
	h.Set("Vary", "Accept")
	if !prefersMultipart(r.Header.Values("Accept")) {
		var b strings.Builder
		b.WriteString("Siblings:\n")
		for _, c := range sibs {
			b.WriteString(c.VTag + "\n")
		}
		h.Set("Content-Type", "text/plain")
		h.Set("Content-Length", strconv.Itoa(b.Len()))
		w.WriteHeader(http.StatusMultipleChoices)
		_, _ = io.WriteString(w, b.String())
		return
	}
	mw := multipart.NewWriter(w)
	h.Set("Content-Type", "multipart/mixed; boundary="+mw.Boundary())
	w.WriteHeader(http.StatusMultipleChoices)
	if r.Method == http.MethodHead {
		return
	}
	for _, c := range sibs {
		part, err := mw.CreatePart(partHeader(c, rt))
		if err != nil {
			return // the client went away
		}
		if _, err := part.Write(c.Value); err != nil {
			return
		}
	}
	_ = mw.Close()
}

// partHeader describes one sibling in a multipart answer. As in Riak, Etag
// is the bare vtag (Riak clients use it as the ?vtag= value).
func partHeader(c object.Content, rt route) textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", formatContentType(c))
	if c.ContentEncoding != "" {
		h.Set("Content-Encoding", sanitizeHeaderValue(c.ContentEncoding))
	}
	h.Set("Link", formatLinks(c.Links, rt))
	h.Set("Etag", sanitizeHeaderValue(c.VTag))
	if lm := formatLastModified(c.LastModified); lm != "" {
		h.Set("Last-Modified", lm)
	}
	for _, kv := range metaHeaders(c.Meta) {
		h.Set(kv[0], kv[1])
	}
	return h
}

// prefersMultipart reports whether the Accept header ranks multipart/mixed
// above text/plain. Ties (*/*, no Accept) go to text/plain, as Riak's GET
// does, unless multipart was named more specifically.
func prefersMultipart(accept []string) bool {
	var multiQ, textQ float64
	var multiSpec, textSpec int // 0 none, 1 */*, 2 type/*, 3 exact
	for _, v := range accept {
		for _, rng := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(rng))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f <= 1 {
					q = f
				}
			}
			if spec := rangeSpecificity(mt, "multipart", "mixed"); spec > multiSpec {
				multiSpec, multiQ = spec, q
			}
			if spec := rangeSpecificity(mt, "text", "plain"); spec > textSpec {
				textSpec, textQ = spec, q
			}
		}
	}
	if multiQ == 0 {
		return false
	}
	return multiQ > textQ || (multiQ == textQ && multiSpec > textSpec)
}

// rangeSpecificity is how specifically the media range mt names typ/sub:
// 3 exactly, 2 by typ/*, 1 by */*, 0 not at all.
func rangeSpecificity(mt, typ, sub string) int {
	switch mt {
	case typ + "/" + sub:
		return 3
	case typ + "/*":
		return 2
	case "*/*":
		return 1
	}
	return 0
}

// writeNotModified answers 304 with the validators of what matched.
func writeNotModified(w http.ResponseWriter, obj *object.Object, sel []object.Content, loc node.Location) {
	h := w.Header()
	setVclock(h, obj, loc)
	if len(sel) == 1 {
		h.Set("Etag", formatETag(sel[0].VTag))
	}
	if lm := formatLastModified(latest(sel)); lm != "" {
		h.Set("Last-Modified", lm)
	}
	w.WriteHeader(http.StatusNotModified)
}

// writeNotFound answers 404, with the tombstone's causal context when obj
// is one, so that a client can write over the delete causally.
func writeNotFound(w http.ResponseWriter, obj *object.Object, loc node.Location) {
	setVclock(w.Header(), obj, loc)
	writeText(w, http.StatusNotFound, "not found")
}

// setVclock sets X-Riak-Vclock to obj's causal context, bound to loc; a
// nil object or an empty context sets nothing.
func setVclock(h http.Header, obj *object.Object, loc node.Location) {
	if obj == nil {
		return
	}
	if v := obj.Context().Encode(loc.Bytes()); v != "" {
		h.Set(hdrVclock, v)
	}
}
