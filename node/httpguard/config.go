package httpguard

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Config sets the guard's limits and the HTTP server's timeouts.
type Config struct {
	// MaxConcurrent is how many requests (but /ping) may run at once; one
	// more is shed with 503. 0 disables shedding.
	MaxConcurrent int
	// MaxBodyBytes bounds every request body (413 above it). It should
	// not be below the largest object accepted.
	MaxBodyBytes int64
	// MaxHeaderBytes bounds the request line and headers
	// (http.Server.MaxHeaderBytes); net/http answers 431 above it.
	MaxHeaderBytes int
	// ReadHeaderTimeout bounds the time to read a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the time to read a whole request, body included.
	// 0: no bound (ReadHeaderTimeout still holds).
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the request headers to
	// the end of the answer, which includes a streamed key listing. 0: no
	// bound.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a kept-alive connection waits for its
	// next request.
	IdleTimeout time.Duration
}

// DefaultConfig returns production limits: 512 concurrent requests, 50
// MiB bodies (the largest object node accepts), 64 KiB of headers
// (enough for an 8 KiB key escaped three times over), headers within 10 s,
// bodies and answers within 5 minutes (a 50 MiB value at about 170 KB/s),
// idle connections closed after 2 minutes.
func DefaultConfig() Config {
	return Config{
		MaxConcurrent:     512,
		MaxBodyBytes:      50 << 20,
		MaxHeaderBytes:    64 << 10,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
}

// DefaultLocalConfig is DefaultConfig tuned for tests on loopback: short
// timeouts, so that a test of a slow or idle client ends quickly.
func DefaultLocalConfig() Config {
	c := DefaultConfig()
	c.ReadHeaderTimeout = 300 * time.Millisecond
	c.ReadTimeout = time.Second
	c.WriteTimeout = 5 * time.Second
	c.IdleTimeout = time.Second
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.MaxConcurrent < 0:
		return fmt.Errorf("httpguard: MaxConcurrent must not be negative, got %d", c.MaxConcurrent)
	case c.MaxBodyBytes <= 0:
		return fmt.Errorf("httpguard: MaxBodyBytes must be positive, got %d", c.MaxBodyBytes)
	case c.MaxHeaderBytes < 4<<10:
		return fmt.Errorf("httpguard: MaxHeaderBytes must be at least 4096, got %d", c.MaxHeaderBytes)
	case c.ReadHeaderTimeout <= 0:
		return fmt.Errorf("httpguard: ReadHeaderTimeout must be positive, got %v", c.ReadHeaderTimeout)
	case c.ReadTimeout < 0 || c.WriteTimeout < 0:
		return fmt.Errorf("httpguard: ReadTimeout and WriteTimeout must not be negative (0: unbounded)")
	case c.ReadTimeout > 0 && c.ReadTimeout < c.ReadHeaderTimeout:
		return fmt.Errorf("httpguard: ReadTimeout %v is below ReadHeaderTimeout %v", c.ReadTimeout, c.ReadHeaderTimeout)
	case c.IdleTimeout <= 0:
		return fmt.Errorf("httpguard: IdleTimeout must be positive, got %v", c.IdleTimeout)
	}
	return nil
}

// Server returns an http.Server with c's timeouts and header limit
// serving h. Its error log (TLS handshake failures, malformed requests)
// goes to logger at warn level.
func (c Config) Server(h http.Handler, logger *slog.Logger) *http.Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    c.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
