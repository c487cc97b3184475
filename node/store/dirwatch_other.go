//go:build !linux

package store

import "errors"

// dirWatch is unavailable here: the syncer lists the directory on every
// sync.
type dirWatch struct{}

func newDirWatch(string) (*dirWatch, error) {
	return nil, errors.New("store: no directory watch on this system")
}

func (*dirWatch) changed() bool { return true }

func (*dirWatch) close() error { return nil }
