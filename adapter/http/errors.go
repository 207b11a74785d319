package httpapi

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/m9m/auth/domain"
)

// Envelope is the contract's error body (§1). Every non-2xx answer has one.
type Envelope struct {
	Error     string              `json:"error"`
	Code      string              `json:"code"`
	Message   string              `json:"message"`
	RequestID string              `json:"requestId"`
	Details   []domain.FieldError `json:"details,omitempty"`
}

var kindStatus = map[domain.Kind]int{
	domain.KindInternal:           http.StatusInternalServerError,
	domain.KindInvalid:            http.StatusBadRequest,
	domain.KindUnauthenticated:    http.StatusUnauthorized,
	domain.KindInvalidCredentials: http.StatusUnauthorized,
	domain.KindForbidden:          http.StatusForbidden,
	domain.KindNotFound:           http.StatusNotFound,
	domain.KindConflict:           http.StatusConflict,
	domain.KindTooLarge:           http.StatusRequestEntityTooLarge,
	domain.KindRateLimited:        http.StatusTooManyRequests,
	domain.KindUnavailable:        http.StatusServiceUnavailable,
}

// echoErrors maps the framework's own errors (routing, body limit) to the contract.
var echoErrors = map[int]*domain.Error{
	http.StatusNotFound:              domain.ErrNotFound.WithMessage("Route not found"),
	http.StatusMethodNotAllowed:      domain.New(domain.KindInvalid, domain.CodeMethodNotAllowed, "Method not allowed"),
	http.StatusRequestEntityTooLarge: domain.ErrTooLarge,
	http.StatusBadRequest:            domain.ErrInvalid,
	http.StatusUnauthorized:          domain.ErrUnauthenticated,
	http.StatusForbidden:             domain.ErrForbidden,
	http.StatusTooManyRequests:       domain.ErrRateLimited,
	http.StatusServiceUnavailable:    domain.ErrUnavailable,
	http.StatusUnsupportedMediaType:  domain.New(domain.KindInvalid, domain.CodeInvalidRequest, "Content-Type must be application/json"),
}

// The 401 challenges and Retry-After, preset (see presetHeader): a refused
// request is the cheapest an attacker can send.
var (
	bearerChallenge      = preset("WWW-Authenticate", `Bearer realm="m9m"`)
	bearerBasicChallenge = preset("WWW-Authenticate", `Bearer realm="m9m", Basic realm="m9m"`)
	hdrRetryAfter        = http.CanonicalHeaderKey("Retry-After")
)

// errorHandler is the one place that knows HTTP statuses for errors and
// writes the envelope. Handlers just return errors.
type errorHandler struct {
	log          *zap.Logger
	basicEnabled bool
}

func (h *errorHandler) handle(err error, c echo.Context) {
	status, derr := h.classify(err)
	rid := requestID(c)
	switch {
	case status >= 500 && status != http.StatusServiceUnavailable:
		h.log.Error("request failed", zap.String("request_id", rid), zap.Int("status", status), zap.Error(err))
	case status == http.StatusServiceUnavailable:
		h.log.Warn("dependency unavailable", zap.String("request_id", rid), zap.Error(err))
	}
	if c.Response().Committed {
		return
	}
	hdr := c.Response().Header()
	switch status {
	case http.StatusUnauthorized:
		// Not to a page's script (fetch sends Sec-Fetch-Mode other than
		// navigate): a Basic challenge makes the browser pop up its own
		// password dialog over the console.
		if h.basicEnabled && !scriptRequest(c.Request()) {
			bearerBasicChallenge.set(hdr)
		} else {
			bearerChallenge.set(hdr)
		}
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if derr.RetryAfter > 0 || status == http.StatusTooManyRequests {
			hdr[hdrRetryAfter] = []string{strconv.Itoa(retryAfterSeconds(derr.RetryAfter))}
		}
	}
	noStorePreset.set(hdr)
	body := Envelope{
		Error:     http.StatusText(status),
		Code:      derr.Code,
		Message:   derr.Message,
		RequestID: rid,
		Details:   derr.Details,
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if werr := c.JSON(status, body); werr != nil {
		h.log.Debug("write error response", zap.String("request_id", rid), zap.Error(werr))
	}
}

func (h *errorHandler) classify(err error) (int, *domain.Error) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if he.Internal != nil {
			// echo wraps bind errors etc.; a domain error inside wins.
			var de *domain.Error
			if errors.As(he.Internal, &de) {
				return kindStatus[de.Kind], de
			}
		}
		if d, ok := echoErrors[he.Code]; ok {
			if he.Code == http.StatusMethodNotAllowed {
				return http.StatusMethodNotAllowed, d
			}
			return he.Code, d
		}
		return http.StatusInternalServerError, domain.ErrInternal
	}
	var de *domain.Error
	if errors.As(err, &de) {
		status, ok := kindStatus[de.Kind]
		if !ok {
			status = http.StatusInternalServerError
		}
		if de.Kind == domain.KindInternal {
			return status, domain.ErrInternal
		}
		return status, de
	}
	return http.StatusInternalServerError, domain.ErrInternal
}

// retryAfterSeconds rounds up to whole seconds, at least 1 (RFC 9110 delay-seconds).
func retryAfterSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		return 1
	}
	return s
}
