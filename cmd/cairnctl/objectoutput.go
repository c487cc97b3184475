package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	kv "github.com/cairnkv/cairn/client"
)

// objectJSON is what get, and put --return-body, print with -o json. The
// shape is cairnctl's own (the node answers in headers and multipart),
// and stable: every field is always present except that a sibling has
// exactly one of value and value_base64.
//
//	{
//	  "type": "default", "bucket": "users", "key": "ada",
//	  "context": "a85hYGBg…",          // X-Riak-Vclock: pass it to put/delete --context
//	  "siblings": [{
//	    "value": "{\"name\":\"Ada\"}",  // when the value is UTF-8 text,
//	    "value_base64": "…",           // otherwise (exactly one of the two)
//	    "content_type": "application/json",
//	    "charset": "", "content_encoding": "",
//	    "last_modified": "2025-01-02T03:04:05Z",  // RFC 3339, UTC; "" when unknown
//	    "vtag": "…",
//	    "meta": {"colour": "red"},     // X-Riak-Meta-*, names lowercased
//	    "links": [{"bucket": "users", "key": "bob", "tag": "friend"}]
//	  }]
//	}
//
// A key that was deleted has its tombstone's context and no siblings; so
// has put without --return-body (the node sends nothing back), whose
// context is then "".
type objectJSON struct {
	Type     string        `json:"type"`
	Bucket   string        `json:"bucket"`
	Key      string        `json:"key"`
	Context  string        `json:"context"`
	Siblings []siblingJSON `json:"siblings"`
}

type siblingJSON struct {
	Value           *string           `json:"value,omitempty"`
	ValueBase64     []byte            `json:"value_base64,omitempty"`
	ContentType     string            `json:"content_type"`
	Charset         string            `json:"charset"`
	ContentEncoding string            `json:"content_encoding"`
	LastModified    string            `json:"last_modified"`
	VTag            string            `json:"vtag"`
	Meta            map[string]string `json:"meta"`
	Links           []linkJSON        `json:"links"`
}

type linkJSON struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Tag    string `json:"tag"`
}

// newObjectJSON is o in its -o json shape. o may have no siblings.
func newObjectJSON(loc kv.Location, o *kv.Object) objectJSON {
	out := objectJSON{Type: loc.Type, Bucket: loc.Bucket, Key: loc.Key, Siblings: []siblingJSON{}}
	if o == nil {
		return out
	}
	out.Context = o.Context
	for _, s := range o.Siblings {
		sj := siblingJSON{
			ContentType:     s.ContentType,
			Charset:         s.Charset,
			ContentEncoding: s.ContentEncoding,
			LastModified:    formatTime(s.LastModified),
			VTag:            s.VTag,
			Meta:            map[string]string{},
			Links:           []linkJSON{},
		}
		if isText(s.Value) {
			v := string(s.Value)
			sj.Value = &v
		} else {
			sj.ValueBase64 = s.Value
		}
		for k, v := range s.Meta {
			sj.Meta[k] = v
		}
		for _, l := range s.Links {
			sj.Links = append(sj.Links, linkJSON(l))
		}
		out.Siblings = append(out.Siblings, sj)
	}
	return out
}

// writeJSON prints v indented as printJSON does, without escaping <, >
// and & (values are data, not HTML).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printObject prints an object for a person: a header, the context on a
// line of its own ("context: …", for scripts to pass back with
// --context), then each sibling.
func printObject(w io.Writer, loc kv.Location, o *kv.Object) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", loc, count(len(o.Siblings), "sibling"))
	if o.Context != "" {
		fmt.Fprintf(&b, "context: %s\n", o.Context)
	}
	for i, s := range o.Siblings {
		fmt.Fprintf(&b, "\nsibling %d:\n", i+1)
		field := func(label, value string) {
			fmt.Fprintln(&b, strings.TrimRight(fmt.Sprintf("  %-15s%s", label+":", value), " "))
		}
		ct := s.ContentType
		if s.Charset != "" {
			ct += "; charset=" + s.Charset
		}
		field("content-type", ct)
		if s.ContentEncoding != "" {
			field("encoding", s.ContentEncoding)
		}
		field("last-modified", orDash(formatTime(s.LastModified)))
		field("vtag", orDash(s.VTag))
		names := make([]string, 0, len(s.Meta))
		for k := range s.Meta {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			field("meta", k+"="+s.Meta[k])
		}
		for _, l := range s.Links {
			field("link", l.Bucket+"/"+l.Key+" tag="+l.Tag)
		}
		switch v := s.Value; {
		case len(v) == 0:
			field("value", "<empty>")
		case !isText(v):
			field("value", fmt.Sprintf("<%d bytes, binary>", len(v)))
		default:
			text := strings.TrimSuffix(string(v), "\n")
			if !strings.Contains(text, "\n") {
				field("value", text)
				break
			}
			field("value", "")
			for _, l := range strings.Split(text, "\n") {
				b.WriteString("    " + l + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// isText reports whether a value can be shown as it is: UTF-8 without
// control characters other than tab and line ends, so that printing it
// cannot drive a terminal.
func isText(v []byte) bool {
	if !utf8.Valid(v) {
		return false
	}
	for _, r := range string(v) {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// formatTime is t in RFC 3339, UTC; "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
