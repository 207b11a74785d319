package httpapi

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/usecase/webhook"
)

// webhookHandlers serve POST /webhook/{path} (contract §8).
type webhookHandlers struct {
	uc *webhook.Trigger
}

// WebhookRoutes declares the public webhook endpoint. It is public because
// each webhook carries its own auth, which the use case checks; the body
// limit and the per-IP rate limit still apply. The echo wildcard takes the
// whole rest of the path, since webhook paths contain slashes.
func WebhookRoutes(trigger *webhook.Trigger) Routes {
	h := &webhookHandlers{uc: trigger}
	return Routes{
		{Method: http.MethodPost, Path: "/webhook/*", Handler: h.trigger, Public: true},
	}
}

type webhookAcceptedBody struct {
	ExecutionID string `json:"executionId"`
}

func (h *webhookHandlers) trigger(c echo.Context) error {
	req := c.Request()
	// echo hands over the raw (escaped) rest of the path when the request
	// had escapes; "%2F" and "/" name the same webhook.
	path, err := url.PathUnescape(c.Param("*"))
	if err != nil {
		return webhook.ErrNotFound
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return domain.ErrTooLarge
		}
		return domain.InvalidField("body", "could not read request body")
	}
	in := webhook.Request{Path: path, Header: req.Header.Clone(), Body: body, Client: ClientOf(c)}
	if u, p, ok := req.BasicAuth(); ok {
		in.Basic = &webhook.BasicCredential{Username: u, Password: p}
	}
	id, err := h.uc.Trigger(req.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, webhookAcceptedBody{ExecutionID: id})
}

// webhookLoggable are the request headers of a delivery whose values the
// access log may show (accessLog scrubs every other one): a header-auth
// webhook's secret travels in a header of the owner's choosing (say
// X-Sender-Id), which the log's name-based redaction cannot know about.
var webhookLoggable = map[string]bool{
	"Accept": true, "Accept-Encoding": true, "Content-Type": true, "Content-Length": true,
	"User-Agent": true, "X-Request-Id": true, "X-Forwarded-For": true, "X-Forwarded-Proto": true,
	"X-Real-Ip": true, "X-M9m-Timestamp": true,
}

// webhookPrefix starts the path of every webhook delivery.
const webhookPrefix = "/webhook/"

// isWebhookRequest reports whether the request is (or tried to be) a
// webhook delivery, whatever became of it: routed there, or on its path
// with a wrong method, too large, rate limited.
func isWebhookRequest(c echo.Context) bool {
	p := c.Request().URL.Path
	return c.Path() == webhookPrefix+"*" || strings.HasPrefix(p, webhookPrefix) || p == strings.TrimSuffix(webhookPrefix, "/")
}

// webhookLogHeaders copies h for the access log with every value not in
// webhookLoggable scrubbed.
func webhookLogHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for name, v := range h {
		ck := http.CanonicalHeaderKey(name)
		if webhookLoggable[ck] {
			out[ck] = strings.Join(v, ", ")
		} else {
			out[ck] = "[REDACTED]"
		}
	}
	return out
}
