package cairn

import (
	"errors"
	"fmt"
	"strings"

	"cairn.dev/cairn/cairnpb"
)

// Code is a status, numbered as gRPC's (cairn.v1.Code).
type Code = cairnpb.Code

// The statuses a call can end with.
const (
	OK                 = cairnpb.Code_OK
	Cancelled          = cairnpb.Code_CANCELLED
	Unknown            = cairnpb.Code_UNKNOWN
	InvalidArgument    = cairnpb.Code_INVALID_ARGUMENT
	DeadlineExceeded   = cairnpb.Code_DEADLINE_EXCEEDED
	NotFound           = cairnpb.Code_NOT_FOUND
	AlreadyExists      = cairnpb.Code_ALREADY_EXISTS
	PermissionDenied   = cairnpb.Code_PERMISSION_DENIED
	ResourceExhausted  = cairnpb.Code_RESOURCE_EXHAUSTED
	FailedPrecondition = cairnpb.Code_FAILED_PRECONDITION
	Aborted            = cairnpb.Code_ABORTED
	OutOfRange         = cairnpb.Code_OUT_OF_RANGE
	Unimplemented      = cairnpb.Code_UNIMPLEMENTED
	Internal           = cairnpb.Code_INTERNAL
	Unavailable        = cairnpb.Code_UNAVAILABLE
	DataLoss           = cairnpb.Code_DATA_LOSS
	Unauthenticated    = cairnpb.Code_UNAUTHENTICATED
)

// Error is every error a call returns: the status and the reason, in the
// server's words when the server gave them.
type Error struct {
	Code    Code
	Message string
	Method  string // the rpc, e.g. "Enqueue"; empty for local errors
}

func (e *Error) Error() string {
	if e.Method != "" {
		return fmt.Sprintf("cairn %s: %s: %s", e.Method, e.Code, e.Message)
	}
	return fmt.Sprintf("cairn: %s: %s", e.Code, e.Message)
}

// Is makes errors.Is(err, cairn.ErrNotFound) (and the other Err values)
// match any error of that status; ErrLeaseLost matches the
// FAILED_PRECONDITION of a lost lease only.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Code != e.Code {
		return false
	}
	if t == ErrLeaseLost {
		return IsLeaseLost(e)
	}
	return t.Message == "" || t.Message == e.Message
}

// Values to compare with errors.Is, one per status.
var (
	ErrCancelled          = &Error{Code: Cancelled}
	ErrInvalidArgument    = &Error{Code: InvalidArgument}
	ErrDeadlineExceeded   = &Error{Code: DeadlineExceeded}
	ErrNotFound           = &Error{Code: NotFound}
	ErrAlreadyExists      = &Error{Code: AlreadyExists}
	ErrPermissionDenied   = &Error{Code: PermissionDenied}
	ErrResourceExhausted  = &Error{Code: ResourceExhausted}
	ErrFailedPrecondition = &Error{Code: FailedPrecondition}
	ErrUnimplemented      = &Error{Code: Unimplemented}
	ErrInternal           = &Error{Code: Internal}
	ErrUnavailable        = &Error{Code: Unavailable}
	ErrUnauthenticated    = &Error{Code: Unauthenticated}
	// ErrLeaseLost: a heartbeat, complete or fail whose lease is gone.
	// Stop working on the task: its next attempt may run elsewhere.
	ErrLeaseLost = &Error{Code: FailedPrecondition, Message: "lease lost:"}
)

// CodeOf returns err's status: OK for nil, Unknown for an error that is
// not a *Error.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Unknown
}

// IsLeaseLost reports whether err is the refusal of a lost lease.
func IsLeaseLost(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == FailedPrecondition &&
		strings.HasPrefix(e.Message, "lease lost:")
}

func errorf(code Code, method, format string, args ...any) *Error {
	return &Error{Code: code, Method: method, Message: fmt.Sprintf(format, args...)}
}
