package httpguard

import (
	"net/http"
)

// authenticate answers 401 or 403 for a request whose token does not
// grant what its path requires, and passes the others to next. With nil
// tokens it passes everything.
func authenticate(tokens *Tokens, m *metrics, next http.Handler) http.Handler {
	if tokens == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		need := required(r)
		if need == RoleNone {
			next.ServeHTTP(w, r)
			return
		}
		tok, ok := bearer(r)
		if !ok {
			m.refused("missing")
			w.Header().Set("WWW-Authenticate", `Bearer realm="cairn"`)
			writeText(w, http.StatusUnauthorized, "unauthorized: this node requires an \"Authorization: Bearer <token>\" header")
			return
		}
		have := tokens.Role(tok)
		switch {
		case have == RoleNone:
			m.refused("invalid")
			w.Header().Set("WWW-Authenticate", `Bearer realm="cairn", error="invalid_token"`)
			writeText(w, http.StatusUnauthorized, "unauthorized: unknown bearer token")
		case have < need:
			m.refused("forbidden")
			w.Header().Set("WWW-Authenticate", `Bearer realm="cairn", error="insufficient_scope"`)
			writeText(w, http.StatusForbidden, "forbidden: "+r.URL.Path+" needs an admin token; this is a "+have.String()+" token")
		default:
			next.ServeHTTP(w, r)
		}
	})
}
