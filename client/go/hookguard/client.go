// Package hookguard is the Go client of hookguard, the webhook authorization
// service: one call (Client.Authorize) that sends the webhook's raw body and
// headers to AuthorizeWebhook and returns a Verdict, and a net/http
// middleware built on it.
//
// Fail closed: any RPC error (server down, deadline, non-OK status) is a
// Verdict with Allowed=false and HTTPStatus=503, so the platform retries
// later. Nothing but a DECISION_ALLOW answer allows, unless the caller turns
// on FailOpen (Options.FailOpen, MiddlewareOptions.FailOpen): then a missing
// decision lets the webhook through unverified, with no owner, Err set and a
// warning logged. A decision (ALLOW or DENY) is always obeyed.
package hookguard

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/hookguard/hookguard/client/go/hookguardv1"
)

// DefaultTimeout is the deadline of one call when Options.Timeout is zero.
const DefaultTimeout = 500 * time.Millisecond

// ServiceConfig is the gRPC service config New applies unless
// Options.DialOptions carry their own grpc.WithDefaultServiceConfig:
// round_robin over every address the target resolves to (a Kubernetes
// headless Service, dns:///hookguard-headless.NS.svc:50051, gives one per
// pod), and a call that fails UNAVAILABLE (a replica going away, a connection
// reset) retried on the next replica, up to 3 attempts and never past the
// call's deadline. All three RPCs only read, so a retry is safe.
const ServiceConfig = `{
  "loadBalancingConfig": [{"round_robin": {}}],
  "methodConfig": [{
    "name": [{"service": "hookguard.v1.WebhookAuthService"}],
    "retryPolicy": {
      "maxAttempts": 3,
      "initialBackoff": "0.05s",
      "maxBackoff": "0.2s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
}`

// UnavailableHTTPStatus is answered when no decision could be obtained.
const UnavailableHTTPStatus = http.StatusServiceUnavailable

// Request is one webhook as the web tier received it.
type Request struct {
	Body            []byte            // the raw body, byte for byte
	Headers         map[string]string // names are matched case-insensitively by the server
	Profile         string            // empty: the server's default profile
	ExpectedOwnerID string            // empty: not checked
	Method, URL     string            // optional, for profiles that sign them
}

// Verdict is the answer for one webhook. Process the event only if Allowed.
type Verdict struct {
	Allowed    bool
	Decision   pb.Decision
	Reason     pb.DenyReason
	OwnerID    string // set only when Allowed
	HTTPStatus int    // what to answer the platform with
	Signature  pb.SignatureResult
	KeyID      string
	MessageID  string
	DecisionID string
	Detail     string
	// Err is the RPC error when no decision was obtained (Allowed is then
	// false and HTTPStatus 503, or with FailOpen true, 200 and no owner);
	// status.Code(Err) gives its gRPC code.
	Err error
	// ResolvedBy says where OwnerID came from: the call's row, or (the app
	// has no row for the call yet) its phone number or assistant.
	ResolvedBy pb.OwnerSource
	// DeliveryKey is the same for every delivery of one event (retries
	// included): deduplicate on it.
	DeliveryKey string
	// ShadowDecision and ShadowReason: in shadow mode, what enforcement
	// would have decided (DECISION_UNSPECIFIED when enforcing).
	ShadowDecision pb.Decision
	ShadowReason   pb.DenyReason
	// ResolvedSubject, with ResolvedBy OWNER_SOURCE_SUBJECT, names the
	// configured subject whose id named the owner.
	ResolvedSubject string
}

// ShadowDeny is true for the ALLOW of a profile in shadow mode that
// enforcement would have denied (ShadowReason says why): log it, do not
// block. OwnerID is then set only if the checks really found an owner.
func (v Verdict) ShadowDeny() bool {
	return v.Allowed && v.ShadowDecision == pb.Decision_DECISION_DENY
}

// FailedOpen is true when fail-open let the webhook through without any
// decision (Err says why): nothing was verified and OwnerID is empty.
func (v Verdict) FailedOpen() bool {
	return v.Allowed && v.Err != nil
}

// FailOpenVerdict is the fail-open answer for a verdict without a decision
// (Err set): let through, 200, no owner, Err kept. A decision (ALLOW or
// DENY) is returned unchanged: fail-open never overrides one. It warns on
// logger (nil: slog.Default()) every time, with the gRPC code and the
// profile; never the body, a header or a secret.
func FailOpenVerdict(v Verdict, profile string, logger *slog.Logger) Verdict {
	if v.Err == nil || v.Allowed {
		return v
	}
	if logger == nil {
		logger = slog.Default()
	}
	logger.Warn("hookguard gave no decision: fail-open lets the webhook through UNVERIFIED, with no owner",
		"error", status.Code(v.Err).String(), "profile", profile)
	v.Allowed, v.HTTPStatus, v.OwnerID = true, http.StatusOK, ""
	return v
}

// Authorizer decides on one webhook. *Client implements it; tests of code
// that uses the middleware can substitute a fake.
type Authorizer interface {
	Authorize(ctx context.Context, r Request) Verdict
}

// TLS configures the channel's transport security. Files are PEM.
type TLS struct {
	CAFile     string // CA of hookguard's certificate; empty: system roots
	CertFile   string // client certificate for mTLS (with KeyFile)
	KeyFile    string
	ServerName string // overrides the name checked in the server's certificate
}

// Options configure New. The zero value is plaintext with a 500 ms deadline.
type Options struct {
	Timeout     time.Duration
	TLS         *TLS
	DialOptions []grpc.DialOption // appended after the transport credentials
	// FailOpen (default false): when hookguard gives no decision
	// (unreachable, deadline, any RPC error), Authorize returns an allowing
	// Verdict with an empty OwnerID and Err set, and logs a warning.
	FailOpen bool
	// Logger receives the fail-open warnings (default slog.Default()).
	Logger *slog.Logger
}

// Client calls hookguard. It is safe for concurrent use; share one per process.
type Client struct {
	conn     *grpc.ClientConn // nil when the caller owns the connection
	stub     pb.WebhookAuthServiceClient
	timeout  time.Duration
	failOpen bool
	logger   *slog.Logger
}

// New connects (lazily) to target: "host:port", or "dns:///name:port" for a
// name with one address per replica (calls are spread over all of them and
// retried on UNAVAILABLE; see ServiceConfig).
func New(target string, opts Options) (*Client, error) {
	creds := insecure.NewCredentials()
	if opts.TLS != nil {
		cfg, err := opts.TLS.config()
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(cfg)
	}
	dial := append([]grpc.DialOption{grpc.WithTransportCredentials(creds),
		grpc.WithDefaultServiceConfig(ServiceConfig)}, opts.DialOptions...)
	conn, err := grpc.NewClient(target, dial...)
	if err != nil {
		return nil, fmt.Errorf("hookguard: %w", err)
	}
	c := NewFromConnWithOptions(conn, opts)
	c.conn = conn
	return c, nil
}

// NewFromConn uses a connection the caller owns (Close leaves it open).
func NewFromConn(conn grpc.ClientConnInterface, timeout time.Duration) *Client {
	return NewFromConnWithOptions(conn, Options{Timeout: timeout})
}

// NewFromConnWithOptions is NewFromConn with Options' Timeout, FailOpen and
// Logger (TLS and DialOptions are the connection's business and ignored).
func NewFromConnWithOptions(conn grpc.ClientConnInterface, opts Options) *Client {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{stub: pb.NewWebhookAuthServiceClient(conn), timeout: timeout,
		failOpen: opts.FailOpen, logger: opts.Logger}
}

// Close closes the connection New opened.
func (c *Client) Close() error {
	if c.conn != nil {
		return c.conn.Close()
	}
	return nil
}

// Authorize asks AuthorizeWebhook. It never returns an allow on error,
// unless the client was made with FailOpen.
func (c *Client) Authorize(ctx context.Context, r Request) Verdict {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.stub.AuthorizeWebhook(ctx, &pb.AuthorizeWebhookRequest{
		Profile:         r.Profile,
		ExpectedOwnerId: r.ExpectedOwnerID,
		Request: &pb.HttpRequest{
			Body: r.Body, Headers: r.Headers, Method: r.Method, Url: r.URL,
		},
	})
	if err != nil {
		if c.failOpen {
			return FailOpenVerdict(verdictFromError(err), r.Profile, c.logger)
		}
		return verdictFromError(err)
	}
	return verdictFromResponse(resp)
}

// HeadersFromHTTP flattens net/http headers; repeated values are joined with ", ".
func HeadersFromHTTP(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for name, values := range h {
		out[name] = strings.Join(values, ", ")
	}
	return out
}

func verdictFromResponse(resp *pb.AuthorizeWebhookResponse) Verdict {
	allowed := resp.GetDecision() == pb.Decision_DECISION_ALLOW
	code := int(resp.GetHttpStatus())
	// Trust the server's status, but never answer 2xx for a deny, nor nothing.
	if !allowed && (code == 0 || (code >= 200 && code < 300)) {
		code = http.StatusForbidden
	}
	if allowed && code == 0 {
		code = http.StatusOK
	}
	owner := ""
	if allowed {
		owner = resp.GetOwnerId()
	}
	return Verdict{
		Allowed: allowed, Decision: resp.GetDecision(), Reason: resp.GetReason(),
		OwnerID: owner, HTTPStatus: code, Signature: resp.GetSignature(),
		KeyID: resp.GetKeyId(), MessageID: resp.GetMessageId(),
		DecisionID: resp.GetDecisionId(), Detail: resp.GetDetail(),
		ResolvedBy: resp.GetResolvedBy(), DeliveryKey: resp.GetDeliveryKey(),
		ShadowDecision: resp.GetShadowDecision(), ShadowReason: resp.GetShadowReason(),
		ResolvedSubject: resp.GetResolvedSubject(),
	}
}

func verdictFromError(err error) Verdict {
	if err == nil {
		err = errors.New("hookguard: no answer")
	}
	return Verdict{
		Allowed: false, HTTPStatus: UnavailableHTTPStatus,
		Detail: status.Convert(err).Message(), Err: err,
	}
}

func (t *TLS) config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("hookguard: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("hookguard: no certificate in %s", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("hookguard: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
