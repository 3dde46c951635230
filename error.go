package hotdesk

import (
	"errors"
	"fmt"
)

// Error codes shared by every adapter. Each edge (HTTP, SIP) maps them to its
// own status codes in one table.
const (
	ECONFLICT     = "conflict"     // 409: uniqueness or state conflict
	EINTERNAL     = "internal"     // 500: unexpected failure
	EINVALID      = "invalid"      // 400: bad input
	ENOTFOUND     = "not_found"    // 404: no such entity
	EUNAUTHORIZED = "unauthorized" // 401: no or bad credentials
	EFORBIDDEN    = "forbidden"    // 403: not allowed
	ELOCKED       = "locked"       // 423: hot desk login locked after PIN failures
	EUNAVAILABLE  = "unavailable"  // 503: database or dependency unavailable
)

// Error is an application error: a machine-readable code, a message safe to
// show to users, and optionally the input field at fault.
type Error struct {
	Code    string
	Message string
	Field   string // JSON field name for EINVALID, if any
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("hotdesk error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("hotdesk error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns an EINVALID error naming the bad field.
func Invalidf(field string, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err. Errors that are not an
// *Error yield "Internal error." so internals never leak to users.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the field named by an EINVALID *Error in err's chain.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// IgnoreNotFound returns nil for an ENOTFOUND error and err otherwise, for
// "end it if there is one" steps such as logging out a device that may
// have nobody logged in.
func IgnoreNotFound(err error) error {
	if ErrorCode(err) == ENOTFOUND {
		return nil
	}
	return err
}
