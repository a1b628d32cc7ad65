package hookguard

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/hookguard/hookguard/client/go/hookguardv1"
)

// fakeServer answers AuthorizeWebhook with fn, over an in-memory connection.
type fakeServer struct {
	pb.UnimplementedWebhookAuthServiceServer
	fn func(*pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error)
}

func (f *fakeServer) AuthorizeWebhook(ctx context.Context, r *pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error) {
	return f.fn(r)
}

func newFake(t *testing.T, timeout time.Duration, fn func(*pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error)) *Client {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer()
	pb.RegisterWebhookAuthServiceServer(s, &fakeServer{fn: fn})
	go s.Serve(lis)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); s.Stop() })
	return NewFromConn(conn, timeout)
}

func TestAuthorizationAllowedPassesRequestThrough(t *testing.T) {
	var seen *pb.AuthorizeWebhookRequest
	c := newFake(t, 0, func(r *pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error) {
		seen = r
		return &pb.AuthorizeWebhookResponse{Decision: pb.Decision_DECISION_ALLOW, OwnerId: "1", HttpStatus: 200, KeyId: "env"}, nil
	})
	body := []byte{'{', 0, 0xff, '}'}
	v := c.Authorize(context.Background(), Request{Body: body, Headers: map[string]string{"X-Vapi-Signature": "ab"}, Profile: "vapi", ExpectedOwnerID: "1"})
	if !v.Allowed || v.OwnerID != "1" || v.HTTPStatus != 200 || v.KeyID != "env" || v.Err != nil {
		t.Fatalf("verdict %+v", v)
	}
	if string(seen.GetRequest().GetBody()) != string(body) || seen.GetProfile() != "vapi" || seen.GetExpectedOwnerId() != "1" ||
		seen.GetRequest().GetHeaders()["X-Vapi-Signature"] != "ab" {
		t.Fatalf("request %+v", seen)
	}
}

func TestAuthorizationDeniedMirrorsHTTPStatus(t *testing.T) {
	c := newFake(t, 0, func(*pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error) {
		return &pb.AuthorizeWebhookResponse{Decision: pb.Decision_DECISION_DENY, Reason: pb.DenyReason_DENY_REASON_CALL_NOT_FOUND, HttpStatus: 404, OwnerId: "2"}, nil
	})
	v := c.Authorize(context.Background(), Request{})
	if v.Allowed || v.HTTPStatus != 404 || v.OwnerID != "" || v.Reason != pb.DenyReason_DENY_REASON_CALL_NOT_FOUND {
		t.Fatalf("verdict %+v", v)
	}
}

func TestUnspecifiedDecisionIsDeny(t *testing.T) {
	c := newFake(t, 0, func(*pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error) {
		return &pb.AuthorizeWebhookResponse{HttpStatus: 200}, nil
	})
	if v := c.Authorize(context.Background(), Request{}); v.Allowed || v.HTTPStatus != 403 {
		t.Fatalf("verdict %+v", v)
	}
}

func TestServerUnavailableFailsClosed(t *testing.T) {
	c := newFake(t, 0, func(*pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error) {
		return nil, status.Error(codes.Unavailable, "db down")
	})
	v := c.Authorize(context.Background(), Request{})
	if v.Allowed || v.HTTPStatus != 503 || status.Code(v.Err) != codes.Unavailable {
		t.Fatalf("verdict %+v", v)
	}
}

func TestDeadlineExceededFailsClosed(t *testing.T) {
	c := newFake(t, 50*time.Millisecond, func(*pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error) {
		time.Sleep(300 * time.Millisecond)
		return &pb.AuthorizeWebhookResponse{Decision: pb.Decision_DECISION_ALLOW, OwnerId: "1"}, nil
	})
	v := c.Authorize(context.Background(), Request{})
	if v.Allowed || v.HTTPStatus != 503 || status.Code(v.Err) != codes.DeadlineExceeded {
		t.Fatalf("verdict %+v", v)
	}
}

func TestNoServerFailsClosed(t *testing.T) {
	target, rawBody, ctx := "127.0.0.1:1", []byte("{}"), context.Background()
	header := http.Header{"X-Vapi-Signature": {"00"}}
	var status int
	var owner string
	// --- docs/reference/clients.md: Go ---
	client, err := New(target, Options{Timeout: 500 * time.Millisecond}) // one per process
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	v := client.Authorize(ctx, Request{Body: rawBody, Headers: HeadersFromHTTP(header)})
	if !v.Allowed {
		status = v.HTTPStatus // 401/403/404/400, or 503 when hookguard is unreachable
	} else {
		owner, status = v.OwnerID, http.StatusOK // process the event for this user only
	}
	// --- end ---
	if v.Allowed || status != 503 || v.Err == nil || owner != "" {
		t.Fatalf("verdict %+v", v)
	}
}

// listenFake serves fn on a loopback port and counts its calls.
func listenFake(t *testing.T, fn func(*pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error)) (string, *atomic.Int32) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	calls := &atomic.Int32{}
	s := grpc.NewServer()
	pb.RegisterWebhookAuthServiceServer(s, &fakeServer{fn: func(r *pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error) {
		calls.Add(1)
		return fn(r)
	}})
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	return lis.Addr().String(), calls
}

// Two replicas behind one name (as a headless Service's DNS name gives):
// New's default service config sends calls to both (round_robin) and retries
// a call that one of them answers UNAVAILABLE on the other.
func TestDefaultServiceConfigSpreadsCallsAndRetriesUnavailable(t *testing.T) {
	down, downCalls := listenFake(t, func(*pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error) {
		return nil, status.Error(codes.Unavailable, "going away")
	})
	up, upCalls := listenFake(t, func(*pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error) {
		return &pb.AuthorizeWebhookResponse{Decision: pb.Decision_DECISION_ALLOW, OwnerId: "1", HttpStatus: 200}, nil
	})
	r := manual.NewBuilderWithScheme("replicas")
	r.InitialState(resolver.State{Addresses: []resolver.Address{{Addr: down}, {Addr: up}}})
	c, err := New("replicas:///hookguard", Options{Timeout: 2 * time.Second, DialOptions: []grpc.DialOption{grpc.WithResolvers(r)}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Until both replicas are connected round_robin picks only the ready one: a
	// call can spend its three attempts on the failing one if it connects first
	// (a loaded machine). Warm up until each has answered a call.
	for deadline := time.Now().Add(10 * time.Second); (downCalls.Load() == 0 || upCalls.Load() == 0) && time.Now().Before(deadline); {
		c.Authorize(context.Background(), Request{})
	}
	if downCalls.Load() == 0 || upCalls.Load() == 0 {
		t.Fatalf("not both connected: up %d, down %d", upCalls.Load(), downCalls.Load())
	}
	down0, up0 := downCalls.Load(), upCalls.Load()
	for i := 0; i < 20; i++ {
		if v := c.Authorize(context.Background(), Request{}); !v.Allowed {
			t.Fatalf("call %d: %+v", i, v)
		}
	}
	if upCalls.Load()-up0 != 20 || downCalls.Load() == down0 {
		t.Fatalf("20 calls: up %d, down %d", upCalls.Load()-up0, downCalls.Load()-down0)
	}
}

func TestDefaultRetryStopsAfterThreeAttempts(t *testing.T) {
	addr, calls := listenFake(t, func(*pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error) {
		return nil, status.Error(codes.Unavailable, "db down")
	})
	c, err := New(addr, Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v := c.Authorize(context.Background(), Request{})
	if v.Allowed || v.HTTPStatus != 503 || status.Code(v.Err) != codes.Unavailable || calls.Load() != 3 {
		t.Fatalf("verdict %+v after %d calls", v, calls.Load())
	}
}

func TestTLSConfigRejectsMissingCAFile(t *testing.T) {
	if _, err := New("x:1", Options{TLS: &TLS{CAFile: "/nonexistent/ca.pem"}}); err == nil {
		t.Fatal("want error")
	}
}

type fakeAuthorizer struct {
	v    Verdict
	seen Request
}

func (f *fakeAuthorizer) Authorize(_ context.Context, r Request) Verdict { f.seen = r; return f.v }

func TestShadowAndResolutionFieldsArePassedOn(t *testing.T) {
	c := newFake(t, 0, func(*pb.AuthorizeWebhookRequest) (*pb.AuthorizeWebhookResponse, error) {
		return &pb.AuthorizeWebhookResponse{Decision: pb.Decision_DECISION_ALLOW, HttpStatus: 200,
			ResolvedBy: pb.OwnerSource_OWNER_SOURCE_PHONE_NUMBER, DeliveryKey: "k-1",
			ShadowDecision: pb.Decision_DECISION_DENY, ShadowReason: pb.DenyReason_DENY_REASON_OWNER_CONFLICT}, nil
	})
	v := c.Authorize(context.Background(), Request{})
	if !v.Allowed || v.ResolvedBy != pb.OwnerSource_OWNER_SOURCE_PHONE_NUMBER || v.DeliveryKey != "k-1" ||
		v.ShadowReason != pb.DenyReason_DENY_REASON_OWNER_CONFLICT || !v.ShadowDeny() {
		t.Fatalf("verdict %+v", v)
	}
	if (Verdict{Allowed: true}).ShadowDeny() {
		t.Fatal("an enforced ALLOW is no shadow deny")
	}
}

func TestMiddleware(t *testing.T) {
	cases := []struct {
		name       string
		v          Verdict
		wantStatus int
		wantCalled bool
		wantBody   string // the answer's text when the handler does not run
		wantID     string // DecisionIDHeader
		wantLog    string // in the shadow-mode log
	}{
		{name: "allowed", v: Verdict{Allowed: true, OwnerID: "7", HTTPStatus: 200, DecisionID: "d-1"},
			wantStatus: 200, wantCalled: true},
		{name: "denied", v: Verdict{Reason: pb.DenyReason_DENY_REASON_OWNER_MISMATCH, HTTPStatus: 403, DecisionID: "d-2"},
			wantStatus: 403, wantBody: "DENY_REASON_OWNER_MISMATCH", wantID: "d-2"},
		{name: "unavailable", v: verdictFromError(status.Error(codes.Unavailable, "x")),
			wantStatus: 503, wantBody: "hookguard unavailable"},
		{name: "shadow deny", v: Verdict{Allowed: true, OwnerID: "7", HTTPStatus: 200, DecisionID: "d-3",
			ShadowDecision: pb.Decision_DECISION_DENY, ShadowReason: pb.DenyReason_DENY_REASON_CALL_NOT_FOUND},
			wantStatus: 200, wantCalled: true, wantLog: "shadow_reason=DENY_REASON_CALL_NOT_FOUND decision_id=d-3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fa := &fakeAuthorizer{v: tc.v}
			called := false
			var denied []Verdict
			var logged bytes.Buffer
			opts := MiddlewareOptions{Profile: "p", OnDeny: func(_ *http.Request, v Verdict) { denied = append(denied, v) },
				Logger: slog.New(slog.NewTextHandler(&logged, nil))}
			h := Middleware(fa, opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				owner, _ := OwnerID(r.Context())
				buf := make([]byte, 64)
				n, _ := r.Body.Read(buf)
				w.Write([]byte(owner + ":" + string(buf[:n])))
			}))
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/webhook", strings.NewReader(`{"a":1}`))
			req.Header.Set("X-Vapi-Signature", "sig")
			h.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus || called != tc.wantCalled {
				t.Fatalf("status %d called %v", rec.Code, called)
			}
			if string(fa.seen.Body) != `{"a":1}` || fa.seen.Headers["X-Vapi-Signature"] != "sig" || fa.seen.Profile != "p" {
				t.Fatalf("seen %+v", fa.seen)
			}
			if tc.wantCalled && (rec.Body.String() != `7:{"a":1}` || len(denied) != 0) {
				t.Fatalf("handler saw %q", rec.Body.String())
			}
			if !tc.wantCalled && (strings.TrimSpace(rec.Body.String()) != tc.wantBody || len(denied) != 1) {
				t.Fatalf("answer %q, OnDeny saw %v", rec.Body.String(), denied)
			}
			if got := rec.Header().Get(DecisionIDHeader); got != tc.wantID {
				t.Fatalf("%s %q", DecisionIDHeader, got)
			}
			if !strings.Contains(logged.String(), tc.wantLog) || (tc.wantLog == "" && logged.Len() > 0) {
				t.Fatalf("logged %q", logged.String())
			}
		})
	}
}

func TestMiddlewareBodyLimit(t *testing.T) {
	for _, limit := range []int64{DefaultMaxBodyBytes, 10} {
		fa := &fakeAuthorizer{v: Verdict{Allowed: true, HTTPStatus: 200}}
		opts := MiddlewareOptions{}
		if limit != DefaultMaxBodyBytes {
			opts.MaxBodyBytes = limit
		}
		h := Middleware(fa, opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		for _, size := range []int64{limit, limit + 1} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("POST", "/webhook", bytes.NewReader(make([]byte, size))))
			want := http.StatusOK
			if size > limit {
				want = http.StatusRequestEntityTooLarge
			}
			if rec.Code != want || (size == limit && int64(len(fa.seen.Body)) != limit) {
				t.Fatalf("limit %d, body %d: status %d", limit, size, rec.Code)
			}
		}
	}
}
