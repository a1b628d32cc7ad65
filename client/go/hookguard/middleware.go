package hookguard

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

type ownerKey struct{}

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
	// MaxBodyBytes bounds the body read (default 4 MiB); larger bodies get 413.
	MaxBodyBytes int64
}

// Middleware reads the raw body, asks a, and either calls next with the
// owner id in the context (OwnerID) and the body readable again, or answers
// the verdict's HTTP status without calling next (503 when no decision).
func Middleware(a Authorizer, opts MiddlewareOptions) func(http.Handler) http.Handler {
	limit := opts.MaxBodyBytes
	if limit <= 0 {
		limit = 4 << 20
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
			if err != nil {
				http.Error(w, "request body unreadable or too large", http.StatusRequestEntityTooLarge)
				return
			}
			req := Request{Body: body, Headers: HeadersFromHTTP(r.Header), Profile: opts.Profile,
				Method: r.Method}
			if opts.ExpectedOwnerID != nil {
				req.ExpectedOwnerID = opts.ExpectedOwnerID(r)
			}
			v := a.Authorize(r.Context(), req)
			if !v.Allowed {
				msg := v.Reason.String()
				if v.Err != nil {
					msg = "hookguard unavailable"
				}
				http.Error(w, msg, v.HTTPStatus)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ownerKey{}, v.OwnerID)))
		})
	}
}
