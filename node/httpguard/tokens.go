package httpguard

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Role is what a token may do.
type Role int

const (
	// RoleNone is no role: the token is unknown.
	RoleNone Role = iota
	// RoleData reads and writes keys, bucket props and listings.
	RoleData
	// RoleAdmin is RoleData plus the admin and monitoring endpoints.
	RoleAdmin
)

// String is the role's name in a token file.
func (r Role) String() string {
	switch r {
	case RoleData:
		return "data"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// MinTokenLen is the shortest token a token file may hold: a bearer token
// is a shared secret, and a short one can be guessed.
const MinTokenLen = 16

// Tokens is a set of bearer tokens and their roles. It holds SHA-256
// hashes only. A nil *Tokens authenticates nothing; Tokens is immutable
// and safe for concurrent use.
type Tokens struct {
	hashes [][sha256.Size]byte
	roles  []Role
}

// ParseTokens reads a token file: one "role token" per line, role data or
// admin; blank lines and lines starting with # are skipped. At least one
// token, none shorter than MinTokenLen, none given twice.
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{}
	seen := map[[sha256.Size]byte]bool{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 2 {
			return nil, fmt.Errorf("httpguard: token file line %d: want \"ROLE TOKEN\" (role data or admin), got %d fields", line, len(fields))
		}
		var role Role
		switch fields[0] {
		case "data":
			role = RoleData
		case "admin":
			role = RoleAdmin
		default:
			return nil, fmt.Errorf("httpguard: token file line %d: unknown role %q: want data or admin", line, fields[0])
		}
		if len(fields[1]) < MinTokenLen {
			return nil, fmt.Errorf("httpguard: token file line %d: token shorter than %d characters (make one: head -c 32 /dev/urandom | base64)", line, MinTokenLen)
		}
		h := sha256.Sum256([]byte(fields[1]))
		if seen[h] {
			return nil, fmt.Errorf("httpguard: token file line %d: token given twice", line)
		}
		seen[h] = true
		t.hashes = append(t.hashes, h)
		t.roles = append(t.roles, role)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("httpguard: reading token file: %w", err)
	}
	if len(t.hashes) == 0 {
		return nil, errors.New("httpguard: token file holds no token")
	}
	return t, nil
}

// LoadTokens reads the token file at path (see ParseTokens).
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("httpguard: %w", err)
	}
	defer f.Close()
	t, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return t, nil
}

// Role returns token's role, RoleNone when it is unknown. It compares the
// token's hash with every configured hash in constant time, so neither
// the answer's timing nor which token matched leaks.
func (t *Tokens) Role(token string) Role {
	if t == nil {
		return RoleNone
	}
	h := sha256.Sum256([]byte(token))
	role := RoleNone
	for i := range t.hashes {
		match := subtle.ConstantTimeCompare(h[:], t.hashes[i][:])
		role = Role(subtle.ConstantTimeSelect(match, int(t.roles[i]), int(role)))
	}
	return role
}

// Len is the number of tokens.
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.hashes)
}
