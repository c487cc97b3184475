package gossip

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	for _, tc := range []struct {
		name, in string
		wantLen  int // 0: an error
	}{
		{"16 bytes", b64(16), 16},
		{"24 bytes", b64(24), 24},
		{"32 bytes", b64(32), 32},
		{"32 bytes with newline", b64(32) + "\n", 32},
		{"empty", "", 0},
		{"15 bytes", b64(15), 0},
		{"17 bytes", b64(17), 0},
		{"31 bytes", b64(31), 0},
		{"33 bytes", b64(33), 0},
		{"64 bytes", b64(64), 0},
		{"not base64", "not base64!", 0},
		{"url encoding", base64.URLEncoding.EncodeToString([]byte(strings.Repeat("\xff", 16))), 0},
		{"hex, not base64", strings.Repeat("ab", 32), 0}, // decodes to 48 bytes
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := ParseKey(tc.in)
			if tc.wantLen == 0 {
				if !errors.Is(err, ErrInvalidKey) {
					t.Fatalf("ParseKey(%q) = %d bytes, %v; want ErrInvalidKey", tc.in, len(key), err)
				}
				if !strings.HasPrefix(err.Error(), "gossip: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
				return
			}
			if err != nil || len(key) != tc.wantLen {
				t.Fatalf("ParseKey(%q) = %d bytes, %v; want %d bytes", tc.in, len(key), err, tc.wantLen)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two generated keys are equal")
	}
	key, err := ParseKey(a)
	if err != nil || len(key) != 32 {
		t.Fatalf("ParseKey(GenerateKey()) = %d bytes, %v; want 32 bytes", len(key), err)
	}
}
