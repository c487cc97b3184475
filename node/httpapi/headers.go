package httpapi

import (
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

// Riak's header names.
const (
	hdrVclock     = "X-Riak-Vclock"
	hdrMetaPrefix = "X-Riak-Meta-" // canonical form, as net/http keys headers
)

// query holds the parsed query parameters of a KV request. Parameters a
// handler does not use are parsed all the same: a malformed one is a
// client bug worth a 400.
type query struct {
	r, pr, w, dw, pw, rw    node.Quorum
	basicQuorum, notfoundOK *bool
	returnBody              bool
	vtag                    string
	hasVtag                 bool
	timeout                 time.Duration
	keys, buckets           string // listing modes: "true" or "stream"
}

func parseQuery(raw string) (query, error) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return query{}, errStatus(http.StatusBadRequest, "malformed query string: %v", err)
	}
	q := query{}
	for _, p := range []struct {
		name string
		dst  *node.Quorum
	}{{"r", &q.r}, {"pr", &q.pr}, {"w", &q.w}, {"dw", &q.dw}, {"pw", &q.pw}, {"rw", &q.rw}} {
		v, err := node.ParseQuorum(vals.Get(p.name))
		if err != nil {
			return q, errStatus(http.StatusBadRequest, "%s query parameter must be an integer or one of one, quorum, all, default; got %q", p.name, vals.Get(p.name))
		}
		*p.dst = v
	}
	if q.basicQuorum, err = parseOptionalBool(vals, "basic_quorum"); err != nil {
		return q, err
	}
	if q.notfoundOK, err = parseOptionalBool(vals, "notfound_ok"); err != nil {
		return q, err
	}
	switch strings.ToLower(vals.Get("returnbody")) {
	case "true", "1":
		q.returnBody = true
	case "", "false", "0":
	default:
		return q, errStatus(http.StatusBadRequest, "returnbody query parameter must be true or false; got %q", vals.Get("returnbody"))
	}
	q.vtag, q.hasVtag = vals.Get("vtag"), vals.Has("vtag")
	if s := vals.Get("timeout"); s != "" {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms <= 0 || ms > int64(24*time.Hour/time.Millisecond) {
			return q, errStatus(http.StatusBadRequest, "timeout query parameter must be a positive number of milliseconds; got %q", s)
		}
		q.timeout = time.Duration(ms) * time.Millisecond
	}
	q.keys, q.buckets = vals.Get("keys"), vals.Get("buckets")
	return q, nil
}

// parseOptionalBool reads true, false or default (nil: the bucket decides).
func parseOptionalBool(vals url.Values, name string) (*bool, error) {
	var b bool
	switch strings.ToLower(vals.Get(name)) {
	case "", "default":
		return nil, nil
	case "true", "1":
		b = true
	case "false", "0":
		b = false
	default:
		return nil, errStatus(http.StatusBadRequest, "%s query parameter must be true, false or default; got %q", name, vals.Get(name))
	}
	return &b, nil
}

func (q query) getOptions() node.GetOptions {
	return node.GetOptions{R: q.r, PR: q.pr, BasicQuorum: q.basicQuorum, NotFoundOK: q.notfoundOK}
}

func (q query) putOptions(ctx object.Context) node.PutOptions {
	return node.PutOptions{W: q.w, DW: q.dw, PW: q.pw, Context: ctx, ReturnBody: q.returnBody}
}

func (q query) deleteOptions(ctx object.Context) node.DeleteOptions {
	return node.DeleteOptions{RW: q.rw, R: q.r, W: q.w, PR: q.pr, PW: q.pw, DW: q.dw, Context: ctx}
}

// parseVclock decodes X-Riak-Vclock, bound to loc. Absent is the zero
// context (a blind write).
func parseVclock(h http.Header, loc node.Location) (object.Context, error) {
	s := strings.TrimSpace(h.Get(hdrVclock))
	if s == "" {
		return object.Context{}, nil
	}
	return object.DecodeContext(s, loc.Bytes())
}

// parseContentType splits a stored value's Content-Type into the media type
// (with any parameters but charset) and the charset, as Riak stores them.
func parseContentType(h http.Header) (ctype, charset string, err error) {
	raw := h.Get("Content-Type")
	if strings.TrimSpace(raw) == "" {
		return "", "", errStatus(http.StatusBadRequest, "missing Content-Type: a stored value needs one")
	}
	mt, params, err := mime.ParseMediaType(raw)
	if err != nil || !strings.Contains(mt, "/") {
		return "", "", errStatus(http.StatusBadRequest, "malformed Content-Type %q: want type/subtype[; charset=…]", raw)
	}
	charset = params["charset"]
	delete(params, "charset")
	ctype = mime.FormatMediaType(mt, params)
	if ctype == "" {
		return "", "", errStatus(http.StatusBadRequest, "malformed Content-Type %q", raw)
	}
	return ctype, charset, nil
}

// formatContentType is parseContentType's inverse.
func formatContentType(c object.Content) string {
	ct := c.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	if c.Charset != "" {
		if isToken(c.Charset) {
			ct += "; charset=" + c.Charset
		} else {
			ct += "; charset=" + strconv.Quote(c.Charset)
		}
	}
	return sanitizeHeaderValue(ct)
}

// parseMeta collects X-Riak-Meta-* headers. Names are stored lowercased
// and without the prefix: net/http has already lost the case the client
// sent, and HTTP header names are case-insensitive anyway. Repeated
// headers are joined with ", " as HTTP folds them.
func parseMeta(h http.Header) (map[string]string, error) {
	var meta map[string]string
	for k, vs := range h {
		if len(k) < len(hdrMetaPrefix) || !strings.EqualFold(k[:len(hdrMetaPrefix)], hdrMetaPrefix) {
			continue
		}
		name := strings.ToLower(k[len(hdrMetaPrefix):])
		if name == "" {
			return nil, errStatus(http.StatusBadRequest, "empty metadata name in header %q", k)
		}
		if meta == nil {
			meta = make(map[string]string)
		}
		meta[name] = strings.Join(vs, ", ")
	}
	return meta, nil
}

// metaHeaders returns a content's metadata as header (name, value) pairs,
// sorted by name. Names that cannot be a header (stored by a non-HTTP
// client) are skipped rather than corrupting the answer.
func metaHeaders(meta map[string]string) [][2]string {
	out := make([][2]string, 0, len(meta))
	for k, v := range meta {
		if !isToken(k) {
			continue
		}
		out = append(out, [2]string{hdrMetaPrefix + k, sanitizeHeaderValue(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// formatETag quotes a vtag as an entity tag.
func formatETag(vtag string) string { return `"` + vtag + `"` }

// formatLastModified is an HTTP date, or "" for the zero time.
func formatLastModified(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(http.TimeFormat)
}

// isToken reports whether s is an RFC 9110 token (a valid header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// sanitizeHeaderValue replaces every control character but tab with a
// space: what a stored value holds must never end a header line early
// (net/http does guard the main answer against CR and LF, but not
// mime/multipart a part's headers), and must never be a byte that HTTP
// readers refuse, such as DEL, which made Go's textproto reject a whole
// multipart answer (found by client.FuzzSiblingsRoundTrip).
func sanitizeHeaderValue(v string) string {
	if !strings.ContainsFunc(v, isHeaderCTL) {
		return v
	}
	return strings.Map(func(r rune) rune {
		if isHeaderCTL(r) {
			return ' '
		}
		return r
	}, v)
}

// isHeaderCTL reports whether r is a control character a header value
// may not hold (RFC 9110 field-value allows HTAB among them).
func isHeaderCTL(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }
