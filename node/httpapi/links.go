package httpapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/cairnkv/cairn/node/object"
)

// parseLinks reads Riak links from Link header values. Each value is a
// comma-separated list of RFC 8288 link-values:
//
//	<URL> *( ";" name [ "=" ( token / quoted-string ) ] )
//
// A link with a riaktag parameter must point to a key,
// </buckets/B/keys/K> or </riak/B/K>, and becomes an object.Link; bucket,
// key and tag are %-decoded with "+" as a space, as Riak's quote_plus wrote
// them. Links without riaktag (the rel="up" link a GET returns) are
// ignored, so that a client may send back what it read.
func parseLinks(values []string) ([]object.Link, error) {
	var links []object.Link
	for _, v := range values {
		raw, err := scanLinkValues(v)
		if err != nil {
			return nil, err
		}
		for _, l := range raw {
			tag, ok := l.params["riaktag"]
			if !ok {
				continue
			}
			link, err := riakLink(l.target, tag)
			if err != nil {
				return nil, err
			}
			links = append(links, link)
		}
	}
	return links, nil
}

// formatLinks writes a content's links as one Link header value, led by
// the rel="up" link to the bucket, in the form of the request's path.
func formatLinks(links []object.Link, rt route) string {
	var b strings.Builder
	switch {
	case rt.legacy:
		b.WriteString("</riak/" + escapeSegment(rt.bucket) + `>; rel="up"`)
	case rt.typed:
		b.WriteString("</types/" + escapeSegment(rt.typ) + "/buckets/" + escapeSegment(rt.bucket) + `>; rel="up"`)
	default:
		b.WriteString("</buckets/" + escapeSegment(rt.bucket) + `>; rel="up"`)
	}
	for _, l := range links {
		b.WriteString(", <")
		if rt.legacy {
			b.WriteString("/riak/" + escapeSegment(l.Bucket) + "/" + escapeSegment(l.Key))
		} else {
			b.WriteString("/buckets/" + escapeSegment(l.Bucket) + "/keys/" + escapeSegment(l.Key))
		}
		// The tag is escaped too, so it never needs quoting inside quotes.
		b.WriteString(`>; riaktag="` + url.QueryEscape(l.Tag) + `"`)
	}
	return b.String()
}

// riakLink turns a link target and tag into an object.Link.
func riakLink(target, tag string) (object.Link, error) {
	bad := func() (object.Link, error) {
		return object.Link{}, errStatus(http.StatusBadRequest,
			"invalid Link %q: links must be of the form </buckets/BUCKET/keys/KEY>; riaktag=\"TAG\" (or </riak/BUCKET/KEY>)", target)
	}
	if !strings.HasPrefix(target, "/") {
		return bad()
	}
	segs := strings.Split(target[1:], "/")
	var b, k string
	switch {
	case len(segs) == 4 && segs[0] == "buckets" && segs[2] == "keys":
		b, k = segs[1], segs[3]
	case len(segs) == 3 && segs[0] == "riak":
		b, k = segs[1], segs[2]
	default:
		return bad()
	}
	bucket, err1 := url.QueryUnescape(b)
	key, err2 := url.QueryUnescape(k)
	t, err3 := url.QueryUnescape(tag)
	if err1 != nil || err2 != nil || err3 != nil || bucket == "" || key == "" {
		return bad()
	}
	return object.Link{Bucket: bucket, Key: key, Tag: t}, nil
}

// linkValue is one parsed link-value: its target and its parameters
// (names lowercased; the first occurrence of a name wins, as RFC 8288 says).
type linkValue struct {
	target string
	params map[string]string
}

// scanLinkValues splits one Link header value into link-values.
func scanLinkValues(s string) ([]linkValue, error) {
	bad := func(why string) ([]linkValue, error) {
		return nil, errStatus(http.StatusBadRequest, "malformed Link header %q: %s", s, why)
	}
	var out []linkValue
	i := 0
	for {
		// Empty list elements (",,") are allowed by the list syntax.
		for i < len(s) && (isLinkSpace(s[i]) || s[i] == ',') {
			i++
		}
		if i == len(s) {
			return out, nil
		}
		if s[i] != '<' {
			return bad("expected '<'")
		}
		end := strings.IndexByte(s[i+1:], '>')
		if end < 0 {
			return bad("missing '>'")
		}
		lv := linkValue{target: s[i+1 : i+1+end], params: map[string]string{}}
		i += end + 2
		for {
			for i < len(s) && isLinkSpace(s[i]) {
				i++
			}
			if i == len(s) || s[i] == ',' {
				break
			}
			if s[i] != ';' {
				return bad("expected ';' or ',' after a link")
			}
			i++
			for i < len(s) && isLinkSpace(s[i]) {
				i++
			}
			start := i
			for i < len(s) && isTokenByte(s[i]) {
				i++
			}
			if start == i {
				return bad("expected a parameter name")
			}
			name := strings.ToLower(s[start:i])
			for i < len(s) && isLinkSpace(s[i]) {
				i++
			}
			var val string
			if i < len(s) && s[i] == '=' {
				i++
				for i < len(s) && isLinkSpace(s[i]) {
					i++
				}
				if i < len(s) && s[i] == '"' {
					v, n, ok := scanQuoted(s[i:])
					if !ok {
						return bad("unterminated quoted string")
					}
					val, i = v, i+n
				} else {
					start := i
					for i < len(s) && isTokenByte(s[i]) {
						i++
					}
					val = s[start:i]
				}
			}
			if _, dup := lv.params[name]; !dup {
				lv.params[name] = val
			}
		}
		out = append(out, lv)
	}
}

// scanQuoted reads a quoted-string at the start of s, returning its
// unescaped content and the bytes consumed.
func scanQuoted(s string) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			return b.String(), i + 1, true
		case '\\':
			if i+1 == len(s) {
				return "", 0, false
			}
			i++
		}
		b.WriteByte(s[i])
	}
	return "", 0, false
}

func isLinkSpace(c byte) bool { return c == ' ' || c == '\t' }

func isTokenByte(c byte) bool { return isToken(string(c)) }
