// Package msgpackcheck vets untrusted msgpack before it reaches a decoder.
//
// vmihailenco/msgpack v5.4.1 trusts the lengths its input claims: an
// array header of four bytes can make it allocate tens of gigabytes (its
// allocation limit is not applied to slices), a string that claims more
// bytes than are left grows a pooled decoder's buffer by up to 1 MiB each
// time, and some inputs make it panic. Check walks the bytes without
// decoding them and proves that the input is exactly one msgpack value,
// that every length and element count is backed by bytes that are really
// there, and that values nest at most MaxNesting deep. That keeps what a
// decoder allocates in proportion to the input's size and bounds how deep
// it recurses. It does not make decoding panic-free: callers still recover.
//
// Usage, for bytes read from disk, a Raft log or the network:
//
//	if err := msgpackcheck.Check(b); err != nil {
//		return err
//	}
//	defer func() {
//		if p := recover(); p != nil {
//			err = fmt.Errorf("malformed msgpack: %v", p)
//		}
//	}()
//	return msgpack.NewDecoder(bytes.NewReader(b)).Decode(v)
//
// Check is pure: no allocation beyond a small stack of element counts, no
// I/O, safe for concurrent use, and it gives the same answer on every
// machine, so replicas that vet the same bytes agree.
package msgpackcheck
