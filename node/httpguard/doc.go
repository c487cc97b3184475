// Package httpguard is what stands between the network and a node's HTTP
// API (the Riak paths of node/httpapi and the /admin/ paths of
// meta/adminapi): bearer-token authentication with two roles, a bound on
// request bodies, load shedding, and the server's timeouts and header
// limit.
//
// # Invariants
//
//   - Authentication runs first. With tokens configured, every request
//     but GET/HEAD of exactly /ping carries "Authorization: Bearer
//     <token>": none or an unknown token is 401 with WWW-Authenticate:
//     Bearer, a data token on an admin path is 403. /ping stays open so
//     that load balancers and orchestrators can probe a node without a
//     secret; it answers "OK" and nothing else. Tokens are kept as
//     SHA-256 hashes and compared in constant time against every
//     configured token.
//   - Roles: data reads and writes keys, bucket props and listings; admin
//     is everything data is, plus /admin/ (cluster, ring, bucket types,
//     transfers, AAE), /stats, /metrics, /debug/pprof and a PUT of a
//     bucket type's props (/types/T/props). A path is classified after
//     path.Clean, the form net/http's ServeMux dispatches on.
//   - Bodies: a request declaring more than MaxBodyBytes is answered 413
//     before a byte is read; any other body is read through
//     http.MaxBytesReader, so a handler never buffers more.
//   - Load shedding: at most MaxConcurrent requests run at once (after
//     authentication; /ping is not counted). One more is answered 503
//     with Retry-After: 1 at once, never queued, and counted in
//     cairn_http_shed_total. Queues would only turn overload into
//     timeouts for everyone.
//   - Server: ReadHeaderTimeout bounds how long a client may take to send
//     its headers (a slowloris client is cut off), ReadTimeout and
//     WriteTimeout bound a request's body and answer (sized for the
//     largest object over a slow link), IdleTimeout bounds a kept-alive
//     connection, MaxHeaderBytes bounds the request line and headers.
//
// # Usage
//
//	tokens, err := httpguard.LoadTokens("/etc/cairn/tokens") // nil: no auth
//	h, err := httpguard.New(cfg, tokens, mux, logger, reg)
//	srv := cfg.Server(h, logger)
//	err = srv.ServeTLS(ln, certFile, keyFile) // or srv.Serve(ln)
package httpguard
