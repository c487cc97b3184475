//go:build linux

package store

import (
	"errors"
	"syscall"
)

// dirWatch reports whether a directory's entries may have changed, through
// inotify: creating, deleting or renaming an entry queues an event before
// the call that made the change returns, so an empty queue means the
// entries are those of the last listing taken after the previous drain.
type dirWatch struct {
	fd  int
	buf [4096]byte
}

func newDirWatch(dir string) (*dirWatch, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		return nil, err
	}
	const mask = syscall.IN_CREATE | syscall.IN_DELETE | syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO |
		syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF
	if _, err := syscall.InotifyAddWatch(fd, dir, mask); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return &dirWatch{fd: fd}, nil
}

// changed drains the queued events and reports whether there were any.
// A queue overflow is an event too; a failed read counts as a change, so
// the caller lists the directory whenever in doubt.
func (w *dirWatch) changed() bool {
	changed := false
	for {
		n, err := syscall.Read(w.fd, w.buf[:])
		switch {
		case n > 0:
			changed = true
		case errors.Is(err, syscall.EINTR):
		case errors.Is(err, syscall.EAGAIN):
			return changed
		default:
			return true
		}
	}
}

func (w *dirWatch) close() error { return syscall.Close(w.fd) }
