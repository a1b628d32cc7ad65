package hookguard

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/hookguard/hookguard/client/go/hookguardv1"
)

func TestFailOpenUnreachableServerLetsThroughWithErrAndNoOwner(t *testing.T) {
	var logged bytes.Buffer
	c, err := New("127.0.0.1:1", Options{Timeout: 300 * time.Millisecond, FailOpen: true,
		Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v := c.Authorize(context.Background(), Request{Body: []byte(`{"secret":"body"}`),
		Headers: map[string]string{"x-vapi-signature": "sig-abc"}, Profile: "vapi"})
	if !v.Allowed || v.HTTPStatus != 200 || v.OwnerID != "" || status.Code(v.Err) != codes.Unavailable || !v.FailedOpen() {
		t.Fatalf("verdict %+v", v)
	}
	out := logged.String()
	if !strings.Contains(out, "fail-open") || !strings.Contains(out, "error=Unavailable") ||
		!strings.Contains(out, "profile=vapi") || strings.Contains(out, "sig-abc") || strings.Contains(out, "secret") {
		t.Fatalf("logged %q", out)
	}
}

func TestFailOpenObeysDecisions(t *testing.T) {
	for _, tc := range []struct {
		name string
		resp *pb.AuthorizeWebhookResponse
		err  error
		want Verdict
	}{
		{name: "deny", resp: &pb.AuthorizeWebhookResponse{Decision: pb.Decision_DECISION_DENY, HttpStatus: 403,
			Reason: pb.DenyReason_DENY_REASON_OWNER_MISMATCH},
			want: Verdict{Allowed: false, HTTPStatus: 403}},
		{name: "allow", resp: &pb.AuthorizeWebhookResponse{Decision: pb.Decision_DECISION_ALLOW, HttpStatus: 200, OwnerId: "7"},
			want: Verdict{Allowed: true, HTTPStatus: 200, OwnerID: "7"}},
		{name: "unavailable", err: status.Error(codes.Unavailable, "db down"),
			want: Verdict{Allowed: true, HTTPStatus: 200, OwnerID: ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lis := newFake(t, 0, func(*pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error) {
				return tc.resp, tc.err
			})
			c := &Client{stub: lis.stub, timeout: lis.timeout, failOpen: true,
				logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}
			v := c.Authorize(context.Background(), Request{})
			if v.Allowed != tc.want.Allowed || v.HTTPStatus != tc.want.HTTPStatus || v.OwnerID != tc.want.OwnerID ||
				v.FailedOpen() != (tc.err != nil) {
				t.Fatalf("verdict %+v", v)
			}
		})
	}
}

func TestFailOpenIsOffByDefault(t *testing.T) {
	c := newFake(t, 0, func(*pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error) {
		return nil, status.Error(codes.Unavailable, "db down")
	})
	if v := c.Authorize(context.Background(), Request{}); v.Allowed || v.HTTPStatus != 503 {
		t.Fatalf("verdict %+v", v)
	}
}

// serveOnce runs Middleware with opts over a fake answering v, and reports
// whether the handler ran, what it saw, and the answer.
func serveOnce(t *testing.T, v Verdict, opts MiddlewareOptions) (called bool, seen Verdict, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := Middleware(&fakeAuthorizer{v: v}, opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = true
		seen, _ = VerdictFrom(r.Context())
		owner, _ := OwnerID(r.Context())
		w.Write([]byte("owner=" + owner))
	}))
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("POST", "http://app.example/webhooks/vapi?x=1", strings.NewReader(captureBody))
	req.Header.Set("X-Vapi-Signature", "sig")
	h.ServeHTTP(rec, req)
	return called, seen, rec
}

const captureBody = "{\"message\":{\"call\":{\"id\":\"c\u00e9\"}}}\n"

func TestMiddlewareFailOpen(t *testing.T) {
	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	noDecision := verdictFromError(status.Error(codes.DeadlineExceeded, "slow"))
	called, seen, rec := serveOnce(t, noDecision, MiddlewareOptions{FailOpen: true, Logger: logger})
	if !called || rec.Code != 200 || rec.Body.String() != "owner=" || !seen.FailedOpen() ||
		status.Code(seen.Err) != codes.DeadlineExceeded {
		t.Fatalf("called %v status %d body %q verdict %+v", called, rec.Code, rec.Body.String(), seen)
	}
	if !strings.Contains(logged.String(), "fail-open") || strings.Contains(logged.String(), "sig") {
		t.Fatalf("logged %q", logged.String())
	}
	if called, _, rec := serveOnce(t, noDecision, MiddlewareOptions{Logger: logger}); called || rec.Code != 503 {
		t.Fatalf("fail-open off: called %v status %d", called, rec.Code)
	}
	deny := Verdict{Decision: pb.Decision_DECISION_DENY, Reason: pb.DenyReason_DENY_REASON_OWNER_MISMATCH, HTTPStatus: 403}
	if called, _, rec := serveOnce(t, deny, MiddlewareOptions{FailOpen: true, Logger: logger}); called || rec.Code != 403 {
		t.Fatalf("deny with fail-open: called %v status %d", called, rec.Code)
	}
}

var captureKeys = []string{"format", "captured_at", "profile", "method", "url", "headers", "body_base64",
	"expected_owner_id", "decision", "shadow_decision", "reason", "http_status", "decision_id"}

func readCaptures(t *testing.T, dir string) []map[string]any {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if !regexp.MustCompile(`^\d{8}T\d{6}Z-[A-Za-z0-9_-]+\.json$`).MatchString(e.Name()) {
			t.Fatalf("file name %q", e.Name())
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v", st.Mode())
		}
		data, _ := os.ReadFile(path)
		var rec map[string]any
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatal(err)
		}
		// The keys in the format's order.
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.Token()
		var keys []string
		for dec.More() {
			k, _ := dec.Token()
			keys = append(keys, k.(string))
			var skip json.RawMessage
			dec.Decode(&skip)
		}
		if !reflect.DeepEqual(keys, captureKeys) {
			t.Fatalf("keys %v", keys)
		}
		out = append(out, rec)
	}
	return out
}

func TestMiddlewareCapture(t *testing.T) {
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	opts := MiddlewareOptions{Profile: "vapi", Capture: CaptureToDir(dir, logger), Logger: logger}
	deny := Verdict{Decision: pb.Decision_DECISION_DENY, Reason: pb.DenyReason_DENY_REASON_CALL_NOT_FOUND,
		HTTPStatus: 404, DecisionID: "d-1"}
	shadow := Verdict{Allowed: true, Decision: pb.Decision_DECISION_ALLOW, HTTPStatus: 200, DecisionID: "d-2",
		ShadowDecision: pb.Decision_DECISION_DENY, ShadowReason: pb.DenyReason_DENY_REASON_OWNER_MISMATCH}
	allow := Verdict{Allowed: true, Decision: pb.Decision_DECISION_ALLOW, HTTPStatus: 200, OwnerID: "1", DecisionID: "d-3"}
	for _, v := range []Verdict{deny, shadow, allow, verdictFromError(status.Error(codes.Unavailable, "x"))} {
		serveOnce(t, v, opts)
	}
	recs := readCaptures(t, dir)
	if len(recs) != 2 {
		t.Fatalf("captured %d files", len(recs))
	}
	byID := map[string]map[string]any{}
	for _, r := range recs {
		byID[r["decision_id"].(string)] = r
		body, _ := base64.StdEncoding.DecodeString(r["body_base64"].(string))
		if string(body) != captureBody || r["headers"].(map[string]any)["x-vapi-signature"] != "sig" ||
			r["url"] != "http://app.example/webhooks/vapi?x=1" || r["method"] != "POST" || r["profile"] != "vapi" ||
			r["format"] != CaptureFormat {
			t.Fatalf("record %v", r)
		}
	}
	if r := byID["d-1"]; r["decision"] != "DECISION_DENY" || r["reason"] != "DENY_REASON_CALL_NOT_FOUND" || r["http_status"] != 404.0 ||
		r["shadow_decision"] != "DECISION_UNSPECIFIED" {
		t.Fatalf("deny record %v", r)
	}
	if r := byID["d-2"]; r["decision"] != "DECISION_ALLOW" || r["shadow_decision"] != "DECISION_DENY" ||
		r["reason"] != "DENY_REASON_OWNER_MISMATCH" {
		t.Fatalf("shadow record %v", r)
	}
}

func TestMiddlewareCaptureHookPanicChangesNoAnswer(t *testing.T) {
	var logged bytes.Buffer
	opts := MiddlewareOptions{Capture: func(Capture) { panic("disk full") },
		Logger: slog.New(slog.NewTextHandler(&logged, nil))}
	deny := Verdict{Decision: pb.Decision_DECISION_DENY, HTTPStatus: 403}
	if called, _, rec := serveOnce(t, deny, opts); called || rec.Code != 403 {
		t.Fatalf("deny: called %v status %d", called, rec.Code)
	}
	shadow := Verdict{Allowed: true, HTTPStatus: 200, ShadowDecision: pb.Decision_DECISION_DENY}
	if called, _, rec := serveOnce(t, shadow, opts); !called || rec.Code != 200 {
		t.Fatalf("shadow: called %v status %d", called, rec.Code)
	}
	if strings.Count(logged.String(), "capture hook failed") != 2 {
		t.Fatalf("logged %q", logged.String())
	}
}

func TestWriteCaptureUnsafeDecisionIDAndRepeats(t *testing.T) {
	dir := t.TempDir()
	c := NewCapture(Request{Body: []byte("{}"), Headers: map[string]string{"X-A": "1", "x-a": "2"}},
		Verdict{Decision: pb.Decision_DECISION_DENY, DecisionID: "../../x"}, "")
	p1, err := WriteCapture(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := WriteCapture(dir, c)
	if filepath.Dir(p1) != dir || p1 == p2 || !regexp.MustCompile(`Z-[0-9a-f]{16}\.json$`).MatchString(p1) {
		t.Fatalf("paths %q %q", p1, p2)
	}
	if h := c.Request.Headers["x-a"]; h != "1, 2" && h != "2, 1" {
		t.Fatalf("headers %v", c.Request.Headers)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("%d files (a temporary file left?)", len(entries))
	}
}
