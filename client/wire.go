package client

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// Riak's header names.
const (
	hdrVclock     = "X-Riak-Vclock"
	hdrMetaPrefix = "X-Riak-Meta-"
)

// contentHeaders sets what describes s on a write: Content-Type (with
// charset), Content-Encoding, X-Riak-Meta-* and Link. It refuses what
// cannot be sent as a header rather than let net/http fail the request
// (which would look like a broken connection).
func contentHeaders(h http.Header, s Sibling) error {
	ct, err := formatContentType(s.ContentType, s.Charset)
	if err != nil {
		return err
	}
	h.Set("Content-Type", ct)
	if s.ContentEncoding != "" {
		if !validHeaderValue(s.ContentEncoding) {
			return fmt.Errorf("%w: Content-Encoding %q holds a control character", ErrBadRequest, s.ContentEncoding)
		}
		h.Set("Content-Encoding", s.ContentEncoding)
	}
	for name, v := range s.Meta {
		if !isToken(name) {
			return fmt.Errorf("%w: metadata name %q is not an HTTP token", ErrBadRequest, name)
		}
		if !validHeaderValue(v) {
			return fmt.Errorf("%w: metadata %q: value holds a control character", ErrBadRequest, name)
		}
		h.Set(hdrMetaPrefix+name, v)
	}
	if len(s.Links) > 0 {
		links := make([]string, 0, len(s.Links))
		for _, l := range s.Links {
			if l.Bucket == "" || l.Key == "" {
				return fmt.Errorf("%w: link %+v needs a bucket and a key", ErrBadRequest, l)
			}
			links = append(links, "</buckets/"+url.QueryEscape(l.Bucket)+"/keys/"+url.QueryEscape(l.Key)+
				`>; riaktag="`+url.QueryEscape(l.Tag)+`"`)
		}
		h.Set("Link", strings.Join(links, ", "))
	}
	return nil
}

// formatContentType is the Content-Type of a stored value: ct (default
// application/octet-stream) with charset as its parameter.
func formatContentType(ct, charset string) (string, error) {
	if strings.TrimSpace(ct) == "" {
		ct = "application/octet-stream"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return "", fmt.Errorf("%w: malformed content type %q", ErrBadRequest, ct)
	}
	if charset != "" {
		params["charset"] = charset
	}
	out := mime.FormatMediaType(mt, params)
	if out == "" {
		return "", fmt.Errorf("%w: content type %q with charset %q cannot be formatted", ErrBadRequest, ct, charset)
	}
	return out, nil
}

// parseContentType splits a Content-Type as the server stored it: the
// media type with its other parameters, and the charset.
func parseContentType(raw string) (ct, charset string) {
	mt, params, err := mime.ParseMediaType(raw)
	if err != nil {
		return raw, ""
	}
	charset = params["charset"]
	delete(params, "charset")
	if ct = mime.FormatMediaType(mt, params); ct == "" {
		ct = raw
	}
	return ct, charset
}

// readSibling describes a sibling from the headers of an answer or of a
// multipart part. etag is as sent: quoted on a whole answer, bare in a
// part.
func readSibling(h textproto.MIMEHeader, value []byte) Sibling {
	s := Sibling{Value: value, ContentEncoding: h.Get("Content-Encoding")}
	s.ContentType, s.Charset = parseContentType(h.Get("Content-Type"))
	s.VTag = strings.Trim(strings.TrimPrefix(h.Get("Etag"), "W/"), `"`)
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		s.LastModified = t
	}
	for k, vs := range h {
		if len(k) > len(hdrMetaPrefix) && strings.EqualFold(k[:len(hdrMetaPrefix)], hdrMetaPrefix) {
			if s.Meta == nil {
				s.Meta = map[string]string{}
			}
			s.Meta[strings.ToLower(k[len(hdrMetaPrefix):])] = strings.Join(vs, ", ")
		}
	}
	s.Links = parseLinks(h.Values("Link"))
	return s
}

// readSiblings reads a 300's multipart/mixed body: one sibling per part.
func readSiblings(res *http.Response) ([]Sibling, error) {
	mt, params, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" || params["boundary"] == "" {
		return nil, fmt.Errorf("siblings answered as %q, not multipart/mixed", res.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(res.Body, params["boundary"])
	var sibs []Sibling
	for {
		// NextRawPart: a part's bytes are the stored value, whatever
		// headers it has.
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return sibs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading sibling %d: %w", len(sibs)+1, err)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(part); err != nil {
			return nil, fmt.Errorf("reading sibling %d: %w", len(sibs)+1, err)
		}
		sibs = append(sibs, readSibling(part.Header, buf.Bytes()))
	}
}

// parseLinks reads the Riak links (those with a riaktag) from Link header
// values; the rel="up" link to the bucket and anything malformed are
// skipped.
func parseLinks(values []string) []Link {
	var links []Link
	for _, v := range values {
		for _, lv := range scanLinks(v) {
			tag, ok := lv.params["riaktag"]
			if !ok {
				continue
			}
			if l, ok := riakLink(lv.target, tag); ok {
				links = append(links, l)
			}
		}
	}
	return links
}

// riakLink reads a link target, </buckets/B/keys/K> (or Riak 1.x's
// </riak/B/K>, or a typed path), and its tag, all escaped as paths are.
func riakLink(target, tag string) (Link, bool) {
	segs := strings.Split(strings.TrimPrefix(target, "/"), "/")
	if len(segs) == 6 && segs[0] == "types" {
		segs = segs[2:]
	}
	var b, k string
	switch {
	case len(segs) == 4 && segs[0] == "buckets" && segs[2] == "keys":
		b, k = segs[1], segs[3]
	case len(segs) == 3 && segs[0] == "riak":
		b, k = segs[1], segs[2]
	default:
		return Link{}, false
	}
	bucket, err1 := url.QueryUnescape(b)
	key, err2 := url.QueryUnescape(k)
	t, err3 := url.QueryUnescape(tag)
	if err1 != nil || err2 != nil || err3 != nil || bucket == "" || key == "" {
		return Link{}, false
	}
	return Link{Bucket: bucket, Key: key, Tag: t}, true
}

type linkValue struct {
	target string
	params map[string]string
}

// scanLinks splits a Link header value into link-values (RFC 8288):
// <target> followed by ;name=value parameters, comma-separated. It stops
// at the first malformed element.
func scanLinks(s string) []linkValue {
	var out []linkValue
	i := 0
	skip := func(set string) {
		for i < len(s) && strings.IndexByte(set, s[i]) >= 0 {
			i++
		}
	}
	for {
		skip(" \t,")
		if i == len(s) || s[i] != '<' {
			return out
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			return out
		}
		lv := linkValue{target: s[i+1 : i+end], params: map[string]string{}}
		i += end + 1
		for {
			skip(" \t")
			if i == len(s) || s[i] != ';' {
				break
			}
			i++
			skip(" \t")
			start := i
			for i < len(s) && isTokenByte(s[i]) {
				i++
			}
			name := strings.ToLower(s[start:i])
			skip(" \t")
			var val string
			if i < len(s) && s[i] == '=' {
				i++
				skip(" \t")
				if i < len(s) && s[i] == '"' {
					var b strings.Builder
					for i++; i < len(s) && s[i] != '"'; i++ {
						if s[i] == '\\' && i+1 < len(s) {
							i++
						}
						b.WriteByte(s[i])
					}
					i++ // the closing quote
					val = b.String()
				} else {
					start := i
					for i < len(s) && isTokenByte(s[i]) {
						i++
					}
					val = s[start:i]
				}
			}
			if _, dup := lv.params[name]; !dup && name != "" {
				lv.params[name] = val
			}
		}
		out = append(out, lv)
		if i < len(s) && s[i] != ',' {
			return out
		}
	}
}

// isToken reports whether s is an RFC 9110 token (a valid header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validHeaderValue reports whether v can be sent as a header value.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
