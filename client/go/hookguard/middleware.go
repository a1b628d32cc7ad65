package hookguard

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// DefaultMaxBodyBytes is the body limit of Middleware when
// MiddlewareOptions.MaxBodyBytes is zero: the server's own default
// (hookguard-server --max_body_bytes, 4 MiB).
const DefaultMaxBodyBytes = 4 << 20

// DecisionIDHeader is the response header in which Middleware hands back
// the decision id of a deny (the same id is in hookguard's audit log line).
const DecisionIDHeader = "Hookguard-Decision-Id"

type ownerKey struct{}

type verdictKey struct{}

// VerdictFrom returns the Verdict that Middleware put in the request context
// of a webhook it let through (FailedOpen() tells a fail-open pass).
func VerdictFrom(ctx context.Context) (Verdict, bool) {
	v, ok := ctx.Value(verdictKey{}).(Verdict)
	return v, ok
}

// OwnerID returns the owner id that Middleware put in the request context of
// an allowed webhook.
func OwnerID(ctx context.Context) (string, bool) {
	v, ok := ctx.Value(ownerKey{}).(string)
	return v, ok
}

// MiddlewareOptions configure Middleware.
type MiddlewareOptions struct {
	Profile string
	// ExpectedOwnerID, if set, names the user the route acts for.
	ExpectedOwnerID func(*http.Request) string
	// MaxBodyBytes bounds the body read (default DefaultMaxBodyBytes); larger
	// bodies get 413.
	MaxBodyBytes int64
	// OnDeny, if set, is called for every webhook not let through (a deny, or
	// 503 when there was no decision) before the answer is written.
	OnDeny func(*http.Request, Verdict)
	// FailOpen (default false): when hookguard gives no decision, call next
	// anyway, with an empty owner id and the Verdict's Err set
	// (VerdictFrom), and log a warning. A decision is always obeyed.
	FailOpen bool
	// Capture, if set, is called with every denied or shadow-would-deny
	// delivery (e.g. CaptureToDir(dir)), before the answer. A panic in it is
	// logged and never changes the answer.
	Capture func(Capture)
	// Logger receives the shadow-mode and fail-open lines (default slog.Default()).
	Logger *slog.Logger
}

// Middleware reads the raw body, asks a, and either calls next with the
// owner id in the context (OwnerID) and the body readable again, or answers
// the verdict's HTTP status without calling next: the reason as text and the
// decision id in DecisionIDHeader, or 503 "hookguard unavailable" when there
// was no decision. A profile in shadow mode is let through and its would-be
// deny logged. With FailOpen, a missing decision calls next with an empty
// owner id.
func Middleware(a Authorizer, opts MiddlewareOptions) func(http.Handler) http.Handler {
	limit := opts.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
			if err != nil {
				http.Error(w, fmt.Sprintf("request body over %d bytes", limit), http.StatusRequestEntityTooLarge)
				return
			}
			req := Request{Body: body, Headers: HeadersFromHTTP(r.Header), Profile: opts.Profile,
				Method: r.Method}
			if opts.ExpectedOwnerID != nil {
				req.ExpectedOwnerID = opts.ExpectedOwnerID(r)
			}
			v := a.Authorize(r.Context(), req)
			if opts.FailOpen {
				v = FailOpenVerdict(v, opts.Profile, logger)
			}
			if opts.Capture != nil && ShouldCapture(v) {
				callCapture(opts.Capture, NewCapture(req, v, requestURL(r)), logger)
			}
			if !v.Allowed {
				if opts.OnDeny != nil {
					opts.OnDeny(r, v)
				}
				msg := v.Reason.String()
				if v.Err != nil {
					msg = "hookguard unavailable"
				}
				if v.DecisionID != "" {
					w.Header().Set(DecisionIDHeader, v.DecisionID)
				}
				http.Error(w, msg, v.HTTPStatus)
				return
			}
			if v.ShadowDeny() {
				logger.Warn("hookguard shadow mode: let through a webhook that enforcement would deny",
					"shadow_reason", v.ShadowReason.String(), "decision_id", v.DecisionID)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			ctx := context.WithValue(context.WithValue(r.Context(), ownerKey{}, v.OwnerID), verdictKey{}, v)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// requestURL is the URL the client asked for, as this server saw it.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

func callCapture(hook func(Capture), c Capture, logger *slog.Logger) {
	defer func() {
		if p := recover(); p != nil {
			logger.Warn("hookguard capture hook failed", "decision_id", c.Verdict.DecisionID,
				"panic", fmt.Sprint(p))
		}
	}()
	hook(c)
}
