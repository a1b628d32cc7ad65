// End-to-end: a net/http server (httptest) guarded by hookguard.Middleware,
// against the live server at HOOKGUARD_TARGET.
package middleware

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookguard/hookguard/client/go/hookguard"
)

type vector struct {
	Name       string            `json:"name"`
	Body       *string           `json:"body"`
	BodyBase64 *string           `json:"body_base64"`
	Headers    map[string]string `json:"headers"`
	Profile    string            `json:"profile"`
	Expect     struct {
		HTTPStatus     int    `json:"http_status"`
		OwnerID        string `json:"owner_id"`
		ShadowDecision string `json:"shadow_decision"`
		ShadowReason   string `json:"shadow_reason"`
	} `json:"expect"`
}

func vectors(t *testing.T) map[string]vector {
	raw, err := os.ReadFile("../../contract/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Vectors []vector }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]vector{}
	for _, v := range doc.Vectors {
		out[v.Name] = v
	}
	return out
}

type recorder struct {
	mu      sync.Mutex
	handled []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handled = append(r.handled, s)
}

func newServer(client hookguard.Authorizer, rec *recorder) *httptest.Server {
	// --- docs/clients.md: Go net/http -------------------------------------------
	mux := http.NewServeMux()
	guard := hookguard.Middleware(client, hookguard.MiddlewareOptions{})
	mux.Handle("POST /webhooks/vapi", guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner, _ := hookguard.OwnerID(r.Context()) // set only for an allowed webhook
		body, _ := io.ReadAll(r.Body)              // the raw body, readable again
		var event struct{ Message struct{ Type string } }
		_ = json.Unmarshal(body, &event)
		rec.add(owner + ":" + event.Message.Type)
		w.WriteHeader(http.StatusOK)
	})))
	// --- end --------------------------------------------------------------------
	return httptest.NewServer(mux)
}

func post(t *testing.T, srv *httptest.Server, v vector) int {
	t.Helper()
	var body []byte
	if v.BodyBase64 != nil {
		body, _ = base64.StdEncoding.DecodeString(*v.BodyBase64)
	} else {
		body = []byte(*v.Body)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/webhooks/vapi", bytes.NewReader(body))
	for k, val := range v.Headers {
		req.Header.Set(k, val)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func liveClient(t *testing.T) *hookguard.Client {
	target := os.Getenv("HOOKGUARD_TARGET")
	if target == "" {
		t.Fatal("HOOKGUARD_TARGET is required")
	}
	c, err := hookguard.New(target, hookguard.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAllowedWebhookRunsHandlerWithOwner(t *testing.T) {
	rec := &recorder{}
	srv := newServer(liveClient(t), rec)
	defer srv.Close()
	if code := post(t, srv, vectors(t)["allow_flat_shape"]); code != 200 {
		t.Fatalf("status %d", code)
	}
	// allow_flat_shape is bob's end-of-call report in the flat shape: no "message".
	if len(rec.handled) != 1 || rec.handled[0] != "2:" {
		t.Fatalf("handled %v", rec.handled)
	}
	if code := post(t, srv, vectors(t)["allow_message_shape"]); code != 200 || rec.handled[1] != "1:status-update" {
		t.Fatalf("status %d handled %v", code, rec.handled)
	}
}

func TestAttacksGetContractStatusAndHandlerNotRun(t *testing.T) {
	rec := &recorder{}
	srv := newServer(liveClient(t), rec)
	defer srv.Close()
	vs := vectors(t)
	for _, name := range []string{"threat1_cross_user_assistant", "threat2_assistant_spoofing",
		"threat4_call_wrong_type", "threat5_body_changed_after_signing"} {
		v := vs[name]
		if code := post(t, srv, v); code != v.Expect.HTTPStatus {
			t.Errorf("%s: status %d, want %d", name, code, v.Expect.HTTPStatus)
		}
	}
	if len(rec.handled) != 0 {
		t.Fatalf("handler ran: %v", rec.handled)
	}
}

// unreachableClient is a client of a loopback port nothing listens on.
func unreachableClient(t *testing.T) *hookguard.Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := hookguard.New(addr, hookguard.Options{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestUnreachableHookguardIs503(t *testing.T) {
	c := unreachableClient(t)
	rec := &recorder{}
	srv := newServer(c, rec)
	defer srv.Close()
	if code := post(t, srv, vectors(t)["allow_message_shape"]); code != 503 {
		t.Fatalf("status %d", code)
	}
	if len(rec.handled) != 0 {
		t.Fatalf("handler ran: %v", rec.handled)
	}
}

// A profile in shadow mode: every webhook is let through (200) with the owner
// only when the checks found one, and a would-be deny is logged with its
// reason and decision id; an allowed call logs nothing.
func TestShadowModeLetsThroughAndLogsWouldBeDenies(t *testing.T) {
	vs := vectors(t)
	rec := &recorder{}
	var log bytes.Buffer
	mux := http.NewServeMux()
	guard := hookguard.Middleware(liveClient(t), hookguard.MiddlewareOptions{
		Profile: vs["shadow_allowed_call"].Profile, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	mux.Handle("POST /webhooks/vapi", guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner, _ := hookguard.OwnerID(r.Context())
		rec.add(owner)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var want []string
	for _, name := range []string{"shadow_allowed_call", "shadow_cross_user_assistant", "shadow_forged_signature"} {
		v := vs[name]
		want = append(want, v.Expect.OwnerID)
		log.Reset()
		if v.Profile != "vapi-shadow" || v.Expect.HTTPStatus != 200 {
			t.Fatalf("%s: not a shadow vector: %+v", name, v)
		}
		if code := post(t, srv, v); code != 200 {
			t.Errorf("%s: status %d, want 200", name, code)
		}
		line := log.String()
		if v.Expect.ShadowDecision == "DECISION_DENY" {
			if !strings.Contains(line, "shadow_reason="+v.Expect.ShadowReason) ||
				!regexp.MustCompile(`decision_id=[0-9a-f]{16,}`).MatchString(line) {
				t.Errorf("%s: would-be deny not logged with reason and decision id: %q", name, line)
			}
		} else if line != "" {
			t.Errorf("%s: logged %q", name, line)
		}
	}
	if strings.Join(rec.handled, ",") != strings.Join(want, ",") {
		t.Fatalf("handled owners %q, want %q", rec.handled, want)
	}
}

// guarded serves POST /webhooks/vapi behind Middleware(client, opts); the
// handler records "owner:error" (error "" when there was a decision).
func guarded(client hookguard.Authorizer, opts hookguard.MiddlewareOptions, rec *recorder) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/vapi", hookguard.Middleware(client, opts)(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			v, _ := hookguard.VerdictFrom(r.Context())
			errText := ""
			if v.Err != nil {
				errText = "err"
			}
			rec.add(v.OwnerID + ":" + errText)
			w.WriteHeader(http.StatusOK)
		})))
	return httptest.NewServer(mux)
}

func TestUnreachableHookguardWithFailOpenRunsHandlerWithErrAndNoOwner(t *testing.T) {
	c := unreachableClient(t)
	var logged bytes.Buffer
	rec := &recorder{}
	srv := guarded(c, hookguard.MiddlewareOptions{FailOpen: true,
		Logger: slog.New(slog.NewTextHandler(&logged, nil))}, rec)
	defer srv.Close()
	v := vectors(t)["allow_message_shape"]
	if code := post(t, srv, v); code != 200 {
		t.Fatalf("status %d", code)
	}
	if len(rec.handled) != 1 || rec.handled[0] != ":err" {
		t.Fatalf("handled %v", rec.handled)
	}
	if !strings.Contains(logged.String(), "fail-open") || strings.Contains(logged.String(), v.Headers["x-vapi-signature"]) {
		t.Fatalf("logged %q", logged.String())
	}
}

func TestFailOpenStillObeysTheServersDeny(t *testing.T) {
	rec := &recorder{}
	srv := guarded(liveClient(t), hookguard.MiddlewareOptions{FailOpen: true}, rec)
	defer srv.Close()
	if code := post(t, srv, vectors(t)["threat1_cross_user_assistant"]); code != 403 {
		t.Fatalf("status %d", code)
	}
	if len(rec.handled) != 0 {
		t.Fatalf("handler ran: %v", rec.handled)
	}
}

func TestDeniedDeliveryIsCapturedWithTheExactBytes(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{}
	srv := guarded(liveClient(t), hookguard.MiddlewareOptions{Capture: hookguard.CaptureToDir(dir, nil)}, rec)
	defer srv.Close()
	vs := vectors(t)
	post(t, srv, vs["allow_message_shape"])
	attack := vs["threat1_cross_user_assistant"]
	if code := post(t, srv, attack); code != 403 {
		t.Fatalf("status %d", code)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("%d capture files", len(entries))
	}
	data, _ := os.ReadFile(dir + "/" + entries[0].Name())
	var got struct {
		BodyBase64 string `json:"body_base64"`
		Reason     string `json:"reason"`
		Headers    map[string]string
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	body, _ := base64.StdEncoding.DecodeString(got.BodyBase64)
	if string(body) != *attack.Body || got.Reason != "DENY_REASON_ASSISTANT_MISMATCH" ||
		got.Headers["x-vapi-signature"] != attack.Headers["x-vapi-signature"] {
		t.Fatalf("capture %s", data)
	}
}
