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

// ParseKeyring decodes a comma-separated list of keys in ParseKey's
// form: the first is the key this node sends with (Config.SecretKey),
// the others keys it also accepts (Config.AcceptKeys).
//
// A rolling rotation from key A to key B, one node restarted at a time,
// never splits gossip: first every node gets "A,B" (sends A, accepts B),
// then every node "B,A" (sends B, still accepts A from the nodes not yet
// restarted), then every node "B".
func ParseKeyring(s string) (send []byte, accept [][]byte, err error) {
	for i, part := range strings.Split(s, ",") {
		key, err := ParseKey(part)
		if err != nil {
			return nil, nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		if i == 0 {
			send = key
		} else {
			accept = append(accept, key)
		}
	}
	return send, accept, nil
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
