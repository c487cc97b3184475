package meta

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/cairnkv/cairn/internal/msgpackcheck"
)

// marshal encodes v as msgpack, with the keys of the map types msgpack
// can sort (map[string]string among them) sorted.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unmarshal decodes the single msgpack value b holds into v. Log entries
// and snapshots may be corrupt, and msgpack v5.4.1 trusts what they claim
// in ways FuzzApply found out:
//
//   - it allocates a slice for as many elements as an array header claims
//     (its alloc limit is never applied to slices), so four bytes can ask
//     for tens of gigabytes and kill the process;
//   - msgpack.Unmarshal's pooled decoders keep their read buffer, which
//     grows by up to 1 MiB for every string that claims more bytes than
//     are left;
//   - some inputs panic inside it (a nil where an array-encoded struct has
//     a time.Time).
//
// So msgpackcheck.Check first proves that every length and count is
// backed by bytes of the input and that values nest shallowly (which
// bounds what the decoder allocates and how deep it recurses), a decoder
// of our own does the work, and a panic becomes an error: the same error
// on every replica.
func unmarshal(b []byte, v any) (err error) {
	if err := msgpackcheck.Check(b); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed msgpack: %v", p)
		}
	}()
	return msgpack.NewDecoder(bytes.NewReader(b)).Decode(v)
}
