package admin

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

// Codes only an HTTP edge produces, beside the hotdesk ones.
const (
	CodeMethod  = "method_not_allowed" // the path does not serve the method (API)
	CodeTooMany = "too_many"           // rate-limited sign-ins (console)
)

// statusOf maps an error code to an HTTP status: the one table the REST
// API and the console both use.
var statusOf = map[string]int{
	hotdesk.EINVALID:      http.StatusBadRequest,
	hotdesk.EUNAUTHORIZED: http.StatusUnauthorized,
	hotdesk.EFORBIDDEN:    http.StatusForbidden,
	hotdesk.ENOTFOUND:     http.StatusNotFound,
	hotdesk.ECONFLICT:     http.StatusConflict,
	hotdesk.ELOCKED:       http.StatusLocked,
	hotdesk.EUNAVAILABLE:  http.StatusServiceUnavailable,
	hotdesk.EINTERNAL:     http.StatusInternalServerError,
	CodeMethod:            http.StatusMethodNotAllowed,
	CodeTooMany:           http.StatusTooManyRequests,
}

// Status returns the HTTP status of err and its code: an unknown code (or
// an error that is no *hotdesk.Error) is EINTERNAL, 500.
func Status(err error) (status int, code string) {
	code = hotdesk.ErrorCode(err)
	if s, ok := statusOf[code]; ok {
		return s, code
	}
	return http.StatusInternalServerError, hotdesk.EINTERNAL
}

// Answer is how an edge answers err: its status, code and a message safe
// to show. Unexpected (5xx) errors are logged with the request, and an
// internal error's message is internal (its cause stays in the log).
func Answer(log *slog.Logger, r *http.Request, err error, internal string) (status int, code, msg string) {
	status, code = Status(err)
	msg = hotdesk.ErrorMessage(err)
	if status >= 500 {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		if code == hotdesk.EINTERNAL {
			msg = internal
		}
	}
	return status, code, msg
}

// Invalid is every bad field of one request. errors.As finds its first
// entry, so hotdesk.ErrorCode, ErrorMessage and ErrorField report that one
// and an edge that shows one error still works.
type Invalid []*hotdesk.Error

func (v Invalid) Error() string {
	msgs := make([]string, len(v))
	for i, e := range v {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the field errors for errors.Is and errors.As.
func (v Invalid) Unwrap() []error {
	out := make([]error, len(v))
	for i, e := range v {
		out[i] = e
	}
	return out
}

// Fields returns the field errors err holds: all of an Invalid, or the
// one *hotdesk.Error in its chain; nil for other errors.
func Fields(err error) []*hotdesk.Error {
	var inv Invalid
	if errors.As(err, &inv) {
		return inv
	}
	var e *hotdesk.Error
	if errors.As(err, &e) {
		return []*hotdesk.Error{e}
	}
	return nil
}

// collect returns the EINVALID errors among errs as one Invalid (nil if
// none). Any other error is returned at once: it is no input mistake.
func collect(errs ...error) error {
	var inv Invalid
	for _, err := range errs {
		if err == nil {
			continue
		}
		var e *hotdesk.Error
		if !errors.As(err, &e) || e.Code != hotdesk.EINVALID {
			return err
		}
		inv = append(inv, Fields(err)...)
	}
	if len(inv) == 0 {
		return nil
	}
	return inv
}

// withField returns err with its field set to field when it has none,
// keeping code and message (desk sentinels and store conflicts carry none).
func withField(err error, field string) error {
	var e *hotdesk.Error
	if !errors.As(err, &e) || e.Field != "" {
		return err
	}
	return &hotdesk.Error{Code: e.Code, Message: e.Message, Field: field}
}

// WithField is withField for the edges (login errors name their field).
func WithField(err error, field string) error { return withField(err, field) }

// ByID adapts an edge's handler of a numbered thing (a site, a webhook, a
// message: "/sites/{id}"): it reads the {id} path value, a positive
// integer, and answers anything else with ENOTFOUND naming what ("Site x
// not found.").
func ByID(what string, h func(w http.ResponseWriter, r *http.Request, id int64) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := r.PathValue("id")
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			return hotdesk.Errorf(hotdesk.ENOTFOUND, "%s %s not found.", what, v)
		}
		return h(w, r, id)
	}
}
