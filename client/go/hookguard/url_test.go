package hookguard

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The full URL goes to hookguard (a twilio profile verifies it); forwarded
// headers count only with TrustForwardedHeaders, and then their last values.
func TestMiddlewareSendsTheFullURL(t *testing.T) {
	forwarded := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hooks.example.com"}
	for _, tc := range []struct {
		name    string
		trust   bool
		tls     bool
		target  string
		headers map[string]string
		want    string
	}{
		{"direct", false, false, "/twilio/status?tenant=acme", nil, "http://app.internal:8080/twilio/status?tenant=acme"},
		{"direct TLS", false, true, "/twilio/status?tenant=acme", nil, "https://app.internal:8080/twilio/status?tenant=acme"},
		{"percent-encoding kept", false, false, "/twilio/st%61tus?q=a%2Bb", nil, "http://app.internal:8080/twilio/st%61tus?q=a%2Bb"},
		{"forwarded ignored", false, false, "/twilio/status?tenant=acme", forwarded, "http://app.internal:8080/twilio/status?tenant=acme"},
		{"forwarded trusted", true, false, "/twilio/status?tenant=acme", forwarded, "https://hooks.example.com/twilio/status?tenant=acme"},
		{"last value wins", true, false, "/twilio/status", map[string]string{
			"X-Forwarded-Proto": "http, HTTPS", "X-Forwarded-Host": "evil.example, hooks.example.com:8443"},
			"https://hooks.example.com:8443/twilio/status"},
		{"trusted but absent", true, false, "/twilio/status", nil, "http://app.internal:8080/twilio/status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fa := &fakeAuthorizer{v: Verdict{Allowed: true, HTTPStatus: 200}}
			h := Middleware(fa, MiddlewareOptions{TrustForwardedHeaders: tc.trust})(
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			// As a server reads it: origin-form target, Host header.
			r := httptest.NewRequest(http.MethodPost, tc.target, strings.NewReader("a=1"))
			r.Host = "app.internal:8080"
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if fa.seen.URL != tc.want || fa.seen.Method != http.MethodPost {
				t.Errorf("sent %s %q, want POST %q", fa.seen.Method, fa.seen.URL, tc.want)
			}
		})
	}
}
