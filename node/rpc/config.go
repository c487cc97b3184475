package rpc

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Config holds the settings shared by Server and Client. Start from
// DefaultConfig; both constructors panic on a Config that fails Validate,
// as a misconfiguration is a programming error.
type Config struct {
	// MaxFrameSize bounds the encoded payload of one frame (request or
	// response, body included, header excluded). A larger incoming frame closes the connection; a larger
	// outgoing request fails with ErrFrameTooLarge without being sent.
	MaxFrameSize int
	// DialTimeout bounds establishing a connection.
	DialTimeout time.Duration
	// WriteTimeout bounds how long a connection may make no progress
	// writing before it is declared dead; it catches peers that vanished
	// without a FIN or RST. Zero disables it.
	WriteTimeout time.Duration
	// ConnsPerPeer is how many connections the client keeps to one address;
	// calls are spread round-robin so one slow stream of bytes does not
	// hold up every call to that peer.
	ConnsPerPeer int
	// IdleTimeout closes a client connection that has carried no call for
	// this long. Zero keeps connections until they break.
	IdleTimeout time.Duration
	// MaxInFlight bounds the handlers the server runs at once for one
	// connection; further requests wait in the socket, which pushes back
	// on the sender.
	MaxInFlight int
	// Logger receives connection-level warnings (bad frames, panics).
	Logger *slog.Logger
}

// DefaultConfig returns production defaults.
func DefaultConfig() Config {
	return Config{
		MaxFrameSize: 16 << 20,
		DialTimeout:  5 * time.Second,
		WriteTimeout: 10 * time.Second,
		ConnsPerPeer: 2,
		IdleTimeout:  5 * time.Minute,
		MaxInFlight:  256,
		Logger:       slog.Default(),
	}
}

// DefaultLocalConfig is DefaultConfig with short timeouts for tests.
func DefaultLocalConfig() Config {
	c := DefaultConfig()
	c.DialTimeout = time.Second
	c.WriteTimeout = 2 * time.Second
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.MaxFrameSize < 1 || c.MaxFrameSize > math.MaxUint32:
		return fmt.Errorf("rpc: config: max frame size %d out of range", c.MaxFrameSize)
	case c.DialTimeout <= 0:
		return errors.New("rpc: config: dial timeout must be positive")
	case c.WriteTimeout < 0:
		return errors.New("rpc: config: negative write timeout")
	case c.ConnsPerPeer < 1:
		return fmt.Errorf("rpc: config: conns per peer %d must be at least 1", c.ConnsPerPeer)
	case c.IdleTimeout < 0:
		return errors.New("rpc: config: negative idle timeout")
	case c.MaxInFlight < 1:
		return fmt.Errorf("rpc: config: max in flight %d must be at least 1", c.MaxInFlight)
	case c.Logger == nil:
		return errors.New("rpc: config: nil Logger")
	}
	return nil
}

func (c Config) mustValidate() {
	if err := c.Validate(); err != nil {
		panic(err)
	}
}
