package hookguard

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
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
	// TrustForwardedHeaders (default false): the app runs behind a proxy that
	// terminates TLS or changes the host and sets X-Forwarded-Proto and
	// X-Forwarded-Host itself. The URL sent to hookguard (Request.URL, which
	// a twilio profile verifies: Twilio signs the URL it called) then takes
	// its scheme and host from their last values (the ones that proxy
	// wrote). Leave it off when clients reach the app directly: they could
	// name any host.
	TrustForwardedHeaders bool
}

// Middleware reads the raw body, asks a, and either calls next with the
// owner id in the context (OwnerID) and the body readable again, or answers
// the verdict's HTTP status without calling next: the reason as text and the
// decision id in DecisionIDHeader, or 503 "hookguard unavailable" when there
// was no decision. A profile in shadow mode is let through and its would-be
// deny logged. With FailOpen, a missing decision calls next with an empty
// owner id. hookguard is sent the request's method and full URL
// (RequestURL), which a twilio profile verifies.
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
				Method: r.Method, URL: RequestURL(r, opts.TrustForwardedHeaders)}
			if opts.ExpectedOwnerID != nil {
				req.ExpectedOwnerID = opts.ExpectedOwnerID(r)
			}
			v := a.Authorize(r.Context(), req)
			if opts.FailOpen {
				v = FailOpenVerdict(v, opts.Profile, logger)
			}
			if opts.Capture != nil && ShouldCapture(v) {
				callCapture(opts.Capture, NewCapture(req, v, req.URL), logger)
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

// RequestURL is the full URL the client asked for, as Middleware sends it to
// hookguard: the scheme (https when the connection is TLS), r.Host, and the
// request target as sent (r.RequestURI: path and query, percent-encoding
// untouched). With trustForwarded, the scheme and host come from the last
// X-Forwarded-Proto and X-Forwarded-Host values when present
// (MiddlewareOptions.TrustForwardedHeaders).
func RequestURL(r *http.Request, trustForwarded bool) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if trustForwarded {
		if p := lastValue(r.Header.Values("X-Forwarded-Proto")); p != "" {
			scheme = strings.ToLower(p)
		}
		if h := lastValue(r.Header.Values("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	target := r.RequestURI
	if !strings.HasPrefix(target, "/") { // absolute-form, "*", or a request built in a test
		target = r.URL.RequestURI()
	}
	return scheme + "://" + host + target
}

// lastValue is the last comma-separated value of a header's fields, trimmed.
func lastValue(fields []string) string {
	if len(fields) == 0 {
		return ""
	}
	parts := strings.Split(fields[len(fields)-1], ",")
	return strings.TrimSpace(parts[len(parts)-1])
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
