package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// nodeIDFile holds a node's id inside its data directory.
const nodeIDFile = "node_id"

// LoadOrCreateID returns the node id persisted in dir, creating a random one
// on first start. The id lives with the data on purpose: a node whose data is
// wiped comes back as a new actor and can never reuse a clock counter.
func LoadOrCreateID(dir string) (string, error) {
	path := filepath.Join(dir, nodeIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if id == "" {
			return "", fmt.Errorf("node: %s is empty", path)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("node: read id: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("node: create data dir: %w", err)
	}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("node: random id: %w", err)
	}
	id := "n" + hex.EncodeToString(raw[:])
	// Write then rename so that a crash never leaves a half-written id.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("node: write id: %w", err)
	}
	if f, err := os.Open(tmp); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("node: write id: %w", err)
	}
	return id, nil
}
