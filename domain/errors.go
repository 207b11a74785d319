// Package domain holds m9m's entities and rules. It does no I/O and imports
// only the standard library, so every rule here can be tested without a
// database, a network or a framework.
package domain

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error by what the caller can do about it. The HTTP
// adapter maps each Kind to exactly one status code; nothing else in the
// core knows about HTTP.
type Kind int

// The kinds, one per row of the contract's error table.
const (
	KindInternal Kind = iota
	KindInvalid
	KindUnauthenticated
	KindInvalidCredentials
	KindForbidden
	KindNotFound
	KindConflict
	KindTooLarge
	KindRateLimited
	KindUnavailable
)

// Stable error codes from the contract (§1). Clients switch on these.
const (
	CodeInvalidRequest     = "INVALID_REQUEST"
	CodeAuthRequired       = "AUTH_REQUIRED"
	CodeInvalidCredentials = "INVALID_CREDENTIALS" //nolint:gosec // an error code, not a credential
	CodeAccessDenied       = "ACCESS_DENIED"
	CodeNotFound           = "NOT_FOUND"
	CodeMethodNotAllowed   = "METHOD_NOT_ALLOWED"
	CodeConflict           = "CONFLICT"
	CodePayloadTooLarge    = "PAYLOAD_TOO_LARGE"
	CodeRateLimited        = "RATE_LIMITED"
	CodeInternal           = "INTERNAL_ERROR"
	CodeUnavailable        = "SERVICE_UNAVAILABLE"
)

// FieldError names one input field that failed validation.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type that crosses the core's boundary. Message is
// shown to API clients, so it must never carry SQL, stack traces or secrets;
// the wrapped Err is for logs only and is never rendered.
type Error struct {
	Kind       Kind
	Code       string
	Message    string
	Details    []FieldError
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap exposes the underlying cause to errors.Is/As (for logs and tests).
func (e *Error) Unwrap() error { return e.Err }

// Is makes sentinels comparable by Kind and Code, so a wrapped copy with a
// different message or cause still matches errors.Is(err, ErrNotFound).
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return e.Kind == t.Kind && e.Code == t.Code
}

// Wrap returns a copy of e that carries cause for logging.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// WithMessage returns a copy of e with a more specific client-facing message.
func (e *Error) WithMessage(msg string) *Error {
	c := *e
	c.Message = msg
	return &c
}

// Sentinels shared by every package. Packages add their own with New.
var (
	ErrUnauthenticated    = New(KindUnauthenticated, CodeAuthRequired, "Authentication required")
	ErrInvalidCredentials = New(KindInvalidCredentials, CodeInvalidCredentials, "Invalid username or password")
	ErrForbidden          = New(KindForbidden, CodeAccessDenied, "Insufficient permissions")
	ErrNotFound           = New(KindNotFound, CodeNotFound, "Resource not found")
	ErrConflict           = New(KindConflict, CodeConflict, "Resource already exists")
	ErrInvalid            = New(KindInvalid, CodeInvalidRequest, "Invalid request")
	ErrTooLarge           = New(KindTooLarge, CodePayloadTooLarge, "Request body too large")
	ErrRateLimited        = New(KindRateLimited, CodeRateLimited, "Too many requests")
	ErrUnavailable        = New(KindUnavailable, CodeUnavailable, "Service temporarily unavailable")
	ErrInternal           = New(KindInternal, CodeInternal, "Internal server error")
)

// New builds an error; use it for package-level sentinels.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Invalid reports failed validation of the named fields.
func Invalid(details ...FieldError) *Error {
	e := *ErrInvalid
	e.Message = "Request validation failed"
	e.Details = details
	return &e
}

// InvalidField is shorthand for Invalid with a single field.
func InvalidField(field, message string) *Error {
	return Invalid(FieldError{Field: field, Message: message})
}

// RateLimited reports a throttle that lifts after retryAfter.
func RateLimited(retryAfter time.Duration) *Error {
	e := *ErrRateLimited
	e.RetryAfter = retryAfter
	return &e
}

// Unavailable reports that a dependency (named for logs, e.g. "redis") is down.
// The dependency name is not secret; the cause may be, so it stays in Err.
func Unavailable(dependency string, cause error) *Error {
	e := *ErrUnavailable
	e.Err = fmt.Errorf("%s: %w", dependency, cause)
	return &e
}

// Internal wraps an unexpected failure; the client sees only a generic message.
func Internal(cause error) *Error {
	return ErrInternal.Wrap(cause)
}

// KindOf returns the Kind of the first *Error in err's chain, or KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// As returns the first *Error in err's chain, or an internal error wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// NewID returns an opaque, unguessable identifier (128 random bits, hex).
func NewID() string {
	return randomHex(16)
}
