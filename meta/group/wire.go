package group

import (
	"bytes"
	"fmt"

	"github.com/cairnkv/cairn/internal/msgpackcheck"
	"github.com/vmihailenco/msgpack/v5"
)

// decodeMsg decodes a message a peer sent (a join or remove-peer request,
// a leader's answer) into v. A peer's bytes are trusted no further than
// meta trusts its log: msgpackcheck first proves every length and count
// is backed by bytes of the input (msgpack allocates what an array header
// claims), a fresh decoder does the work (a pooled one keeps what a
// lying string length made it grow), and a panic inside the decoder
// becomes an error.
func decodeMsg(b []byte, v any) (err error) {
	if err := msgpackcheck.Check(b); err != nil {
		return fmt.Errorf("group: malformed message: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("group: malformed message: %v", p)
		}
	}()
	return msgpack.NewDecoder(bytes.NewReader(b)).Decode(v)
}
