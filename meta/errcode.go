package meta

import (
	"errors"
	"fmt"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

// ErrCode is an error's wire form: the sentinel it wraps.
type ErrCode uint8

// Error codes. Values cross the wire: never renumber.
const (
	CodeOK ErrCode = iota
	CodeInternal
	CodeBadCommand
	CodeNoRing
	CodeUnknownMember
	CodeBadChange
	CodeNothingStaged
	CodeStaleEpoch
	CodeTypeExists
	CodeTypeNotActive
	CodeConflict
	CodeNotLeader
	CodeNoQuorum
	CodeNotFound
	CodeUnknownType
	CodeBadProps
	CodeBadRequest
	CodeMalformedContext
	CodeForeignContext
	CodeTooLarge
	CodeNoTransfer
)

var codeErrors = map[ErrCode]error{
	CodeBadCommand:       ErrBadCommand,
	CodeNoRing:           ErrNoRing,
	CodeUnknownMember:    ErrUnknownMember,
	CodeBadChange:        ErrBadChange,
	CodeNothingStaged:    ErrNothingStaged,
	CodeStaleEpoch:       ErrStaleEpoch,
	CodeTypeExists:       ErrTypeExists,
	CodeTypeNotActive:    ErrTypeNotActive,
	CodeConflict:         ErrConflict,
	CodeNotLeader:        ErrNotLeader,
	CodeNoQuorum:         ErrNoQuorum,
	CodeNotFound:         node.ErrNotFound,
	CodeUnknownType:      node.ErrUnknownBucketType,
	CodeBadProps:         node.ErrBadProps,
	CodeBadRequest:       node.ErrBadRequest,
	CodeMalformedContext: object.ErrMalformedContext,
	CodeForeignContext:   object.ErrForeignContext,
	CodeTooLarge:         node.ErrTooLarge,
	CodeNoTransfer:       ErrNoTransfer,
}

// CodeOf returns the code of the sentinel err wraps (CodeInternal when it
// wraps none; CodeOK for nil).
func CodeOf(err error) ErrCode {
	if err == nil {
		return CodeOK
	}
	for c := CodeBadCommand; c <= CodeNoTransfer; c++ {
		if errors.Is(err, codeErrors[c]) {
			return c
		}
	}
	return CodeInternal
}

// Err rebuilds the error a Result carries: nil for CodeOK, otherwise an
// error that wraps the code's sentinel and reads as Msg.
func (r *Result) Err() error {
	if r.Code == CodeOK {
		return nil
	}
	return &remoteError{code: r.Code, msg: r.Msg}
}

// Fail returns a Result carrying err.
func Fail(err error) *Result {
	return &Result{Code: CodeOf(err), Msg: err.Error()}
}

type remoteError struct {
	code ErrCode
	msg  string
}

func (e *remoteError) Error() string { return e.msg }

func (e *remoteError) Unwrap() error {
	if s, ok := codeErrors[e.code]; ok {
		return s
	}
	return nil
}

func (e *remoteError) String() string { return fmt.Sprintf("%s (code %d)", e.msg, e.code) }
