package httpguard

import (
	"net/http"
	"path"
	"strings"
)

// required is the role a request needs; RoleNone means it is open.
func required(r *http.Request) Role {
	// Only the exact path is open: "/ping/" or "/x/../ping" would reach
	// the API as other paths than the one health checks use (found by
	// FuzzGuard).
	if r.URL.Path == "/ping" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		return RoleNone
	}
	p := r.URL.Path
	if p == "" {
		p = "/"
	}
	p = path.Clean(p)
	switch {
	case p == "/admin" || strings.HasPrefix(p, "/admin/"),
		p == "/stats", p == "/metrics",
		p == "/debug" || strings.HasPrefix(p, "/debug/"):
		return RoleAdmin
	case isTypeProps(p) && r.Method != http.MethodGet && r.Method != http.MethodHead:
		// Setting a bucket type's props changes every bucket of the type.
		return RoleAdmin
	}
	return RoleData
}

// isTypeProps reports whether p is /types/T/props.
func isTypeProps(p string) bool {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	return len(segs) == 3 && segs[0] == "types" && segs[2] == "props"
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
// The scheme is case-insensitive (RFC 7235).
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const scheme = "bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	tok := strings.TrimSpace(h[len(scheme):])
	return tok, tok != ""
}
