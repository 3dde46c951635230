package signaling

import (
	"errors"
	"log/slog"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
)

// reasons are the reason phrases of the statuses the PBX sends.
var reasons = map[int]string{
	sip.StatusOK:                           "OK",
	sip.StatusBadRequest:                   "Bad Request",
	sip.StatusForbidden:                    "Forbidden",
	sip.StatusNotFound:                     "Not Found",
	sip.StatusMethodNotAllowed:             "Method Not Allowed",
	sip.StatusRequestTimeout:               "Request Timeout",
	sip.StatusUnsupportedMediaType:         "Unsupported Media Type",
	sip.StatusTemporarilyUnavailable:       "Temporarily Unavailable",
	sip.StatusCallTransactionDoesNotExists: "Call/Transaction Does Not Exist",
	sip.StatusTooManyHops:                  "Too Many Hops",
	sip.StatusBusyHere:                     "Busy Here",
	sip.StatusRequestTerminated:            "Request Terminated",
	sip.StatusNotAcceptableHere:            "Not Acceptable Here",
	sip.StatusInternalServerError:          "Server Internal Error",
	sip.StatusServiceUnavailable:           "Service Unavailable",
	sip.StatusGlobalDecline:                "Decline",
}

// Reason returns the reason phrase of status.
func Reason(status int) string {
	if r, ok := reasons[status]; ok {
		return r
	}
	return "Error"
}

// codes maps hotdesk error codes to SIP statuses: the one table for every
// SIP component. A failure of the database (EUNAVAILABLE, or EINTERNAL for
// any unclassified store error) is 503 with Retry-After, so a phone retries
// instead of treating the account as broken.
var codes = map[string]int{
	hotdesk.EINVALID:      sip.StatusBadRequest,
	hotdesk.ENOTFOUND:     sip.StatusNotFound,
	hotdesk.EUNAUTHORIZED: sip.StatusForbidden,
	hotdesk.EFORBIDDEN:    sip.StatusForbidden,
	hotdesk.ELOCKED:       sip.StatusForbidden,
	hotdesk.ECONFLICT:     sip.StatusServiceUnavailable,
	hotdesk.EUNAVAILABLE:  sip.StatusServiceUnavailable,
	hotdesk.EINTERNAL:     sip.StatusServiceUnavailable,
}

// ErrorStatus returns the SIP status of err (see codes).
func ErrorStatus(err error) int {
	if s, ok := codes[hotdesk.ErrorCode(err)]; ok {
		return s
	}
	return sip.StatusServiceUnavailable
}

// RetryAfter is the Retry-After (seconds) of every 503 that names none.
const RetryAfter = "5"

// NewResponse builds the answer to req with status, its reason phrase and
// hdrs; a 503 gets Retry-After unless hdrs carry one.
func NewResponse(req *sip.Request, status int, hdrs ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(req, status, Reason(status), nil)
	retry := false
	for _, h := range hdrs {
		res.AppendHeader(h)
		retry = retry || h.Name() == "Retry-After"
	}
	if status == sip.StatusServiceUnavailable && !retry {
		res.AppendHeader(sip.NewHeader("Retry-After", RetryAfter))
	}
	return res
}

// Respond answers req on tx (see NewResponse). An answer the transaction
// no longer takes (terminated) is not an error; others are logged at debug.
func Respond(tx sip.ServerTransaction, req *sip.Request, status int, log *slog.Logger, hdrs ...sip.Header) {
	Send(tx, NewResponse(req, status, hdrs...), log)
}

// Send sends the built response res on tx, logging a failure at debug.
func Send(tx sip.ServerTransaction, res *sip.Response, log *slog.Logger) {
	if err := tx.Respond(res); err != nil && !errors.Is(err, sip.ErrTransactionTerminated) {
		log.Debug("sip respond", "status", res.StatusCode, "error", err)
	}
}

// RespondError answers req with the status of err (see ErrorStatus).
func RespondError(tx sip.ServerTransaction, req *sip.Request, err error, log *slog.Logger) {
	Respond(tx, req, ErrorStatus(err), log)
}
