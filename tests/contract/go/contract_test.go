// Contract runner for the Go client: every vector of ../vectors.json against
// the live server at HOOKGUARD_TARGET (started by tests/contract/run.sh).
package contract

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc/status"

	"github.com/hookguard/hookguard/client/go/hookguard"
)

type vector struct {
	Name            string            `json:"name"`
	Description     string            `json:"description"`
	Body            *string           `json:"body"`
	BodyBase64      *string           `json:"body_base64"`
	Headers         map[string]string `json:"headers"`
	Profile         string            `json:"profile"`
	ExpectedOwnerID string            `json:"expected_owner_id"`
	Method          string            `json:"method"`
	URL             string            `json:"url"`
	Expect          map[string]any    `json:"expect"`
}

func load(t *testing.T) []vector {
	raw, err := os.ReadFile("../vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Vectors []vector }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Vectors
}

func TestContract(t *testing.T) {
	target := os.Getenv("HOOKGUARD_TARGET")
	if target == "" {
		t.Fatal("HOOKGUARD_TARGET is required")
	}
	c, err := hookguard.New(target, hookguard.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, v := range load(t) {
		v := v
		t.Run(v.Name, func(t *testing.T) {
			var body []byte
			if v.BodyBase64 != nil {
				body, err = base64.StdEncoding.DecodeString(*v.BodyBase64)
				if err != nil {
					t.Fatal(err)
				}
			} else {
				body = []byte(*v.Body)
			}
			got := c.Authorize(context.Background(), hookguard.Request{
				Body: body, Headers: v.Headers, Profile: v.Profile, ExpectedOwnerID: v.ExpectedOwnerID,
				Method: v.Method, URL: v.URL,
			})
			errName := any(nil)
			if got.Err != nil {
				errName = status.Code(got.Err).String()
			}
			actual := map[string]any{
				"decision": got.Decision.String(), "reason": got.Reason.String(),
				"http_status": float64(got.HTTPStatus), "owner_id": got.OwnerID,
				"signature": got.Signature.String(), "key_id": got.KeyID, "error": errName,
				"resolved_by": got.ResolvedBy.String(), "delivery_key": got.DeliveryKey,
				"shadow_decision": got.ShadowDecision.String(), "shadow_reason": got.ShadowReason.String(),
				"resolved_subject": got.ResolvedSubject,
			}
			// Every expect key, and only those; a key this runner cannot read fails.
			for k, want := range v.Expect {
				if k == "error" {
					want = grpcCodeName(want.(string))
				}
				if _, known := actual[k]; !known {
					t.Errorf("%s: unknown expect key %q", v.Name, k)
				} else if actual[k] != want {
					t.Errorf("%s: %s = %v, want %v (%s; detail %q)", v.Name, k, actual[k], want, v.Description, got.Detail)
				}
			}
			if got.Allowed != (v.Expect["decision"] == "DECISION_ALLOW") {
				t.Errorf("%s: allowed = %v", v.Name, got.Allowed)
			}
			if got.ShadowDeny() != (v.Expect["shadow_decision"] == "DECISION_DENY") {
				t.Errorf("%s: ShadowDeny() = %v", v.Name, got.ShadowDeny())
			}
		})
	}
}

// grpcCodeName turns "INVALID_ARGUMENT" into Go's codes.Code name "InvalidArgument".
func grpcCodeName(s string) string {
	out, up := []byte{}, true
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '_':
			up = true
		case up:
			out = append(out, ch)
			up = false
		default:
			out = append(out, ch+('a'-'A'))
		}
	}
	return string(out)
}

// TestMutualTLS checks the client's TLS options against the server with
// mutual TLS that run.py starts (HOOKGUARD_TLS_*).
func TestMutualTLS(t *testing.T) {
	target := os.Getenv("HOOKGUARD_TLS_TARGET")
	if target == "" {
		t.Fatal("HOOKGUARD_TLS_TARGET is required")
	}
	var allow vector
	for _, v := range load(t) {
		if v.Name == "allow_message_shape" {
			allow = v
		}
	}
	req := hookguard.Request{Body: []byte(*allow.Body), Headers: allow.Headers}
	cases := []struct {
		name    string
		tls     hookguard.TLS
		allowed bool
		status  int
	}{
		{"client certificate", hookguard.TLS{CAFile: os.Getenv("HOOKGUARD_TLS_CA"),
			CertFile: os.Getenv("HOOKGUARD_TLS_CERT"), KeyFile: os.Getenv("HOOKGUARD_TLS_KEY")}, true, 200},
		{"no client certificate", hookguard.TLS{CAFile: os.Getenv("HOOKGUARD_TLS_CA")}, false, 503},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tlsOpts := tc.tls
			c, err := hookguard.New(target, hookguard.Options{Timeout: 5 * time.Second, TLS: &tlsOpts})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			v := c.Authorize(context.Background(), req)
			if v.Allowed != tc.allowed || v.HTTPStatus != tc.status || (tc.allowed && v.OwnerID != "1") {
				t.Fatalf("verdict %+v", v)
			}
		})
	}
}
