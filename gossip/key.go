package gossip

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// ParseKey decodes a gossip encryption key: standard base64 of 16, 24 or
// 32 bytes (AES-128, -192 or -256). Surrounding white space is ignored, so
// a key read from a file works as is.
func ParseKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%w: not standard base64: %w", ErrInvalidKey, err)
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	return key, nil
}

// GenerateKey returns a new random 32-byte key in the form ParseKey reads.
func GenerateKey() (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("gossip: generate key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(key), nil
}

func checkKey(key []byte) error {
	switch len(key) {
	case 16, 24, 32:
		return nil
	}
	return fmt.Errorf("%w, got %d", ErrInvalidKey, len(key))
}
