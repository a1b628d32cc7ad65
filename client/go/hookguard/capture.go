package hookguard

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	pb "github.com/hookguard/hookguard/client/go/hookguardv1"
)

// CaptureFormat is the "format" of every capture file.
const CaptureFormat = "hookguard-capture/v1"

// Capture is one delivery that was denied, or that shadow mode would have
// denied, as the app received it: what `hookguard explain --capture=FILE`
// replays. It holds the signature headers and the body: secrets-bearing data.
type Capture struct {
	Request Request // body, headers (names lowercased), profile, expected owner, method
	URL     string  // the request's URL as the app saw it ("" if unknown)
	Verdict Verdict
}

// ShouldCapture is true for a DENY and for a shadow-mode ALLOW that
// enforcement would deny; never for an allow nor a missing decision.
func ShouldCapture(v Verdict) bool {
	return v.Decision == pb.Decision_DECISION_DENY || v.ShadowDeny()
}

// NewCapture makes a Capture of r with header names lowercased (names
// differing only in case joined with ", ").
func NewCapture(r Request, v Verdict, url string) Capture {
	lowered := make(map[string]string, len(r.Headers))
	for name, value := range r.Headers {
		key := strings.ToLower(name)
		if prev, ok := lowered[key]; ok {
			value = prev + ", " + value
		}
		lowered[key] = value
	}
	r.Headers = lowered
	r.Body = append([]byte(nil), r.Body...)
	return Capture{Request: r, URL: url, Verdict: v}
}

// captureRecord is the file's JSON object, keys in the format's order.
type captureRecord struct {
	Format          string            `json:"format"`
	CapturedAt      string            `json:"captured_at"`
	Profile         string            `json:"profile"`
	Method          string            `json:"method"`
	URL             string            `json:"url"`
	Headers         map[string]string `json:"headers"`
	BodyBase64      string            `json:"body_base64"`
	ExpectedOwnerID string            `json:"expected_owner_id"`
	Decision        string            `json:"decision"`
	ShadowDecision  string            `json:"shadow_decision"`
	Reason          string            `json:"reason"`
	HTTPStatus      int               `json:"http_status"`
	DecisionID      string            `json:"decision_id"`
}

// Record is the capture file's content (JSON, format hookguard-capture/v1)
// for c captured at now.
func (c Capture) Record(now time.Time) ([]byte, error) {
	v := c.Verdict
	reason := v.ShadowReason
	if v.Decision == pb.Decision_DECISION_DENY {
		reason = v.Reason
	}
	headers := make(map[string]string, len(c.Request.Headers))
	for k, val := range c.Request.Headers {
		headers[strings.ToLower(k)] = val
	}
	return json.MarshalIndent(captureRecord{
		Format: CaptureFormat, CapturedAt: now.UTC().Format("2006-01-02T15:04:05Z"),
		Profile: c.Request.Profile, Method: c.Request.Method, URL: c.URL, Headers: headers,
		BodyBase64:      base64.StdEncoding.EncodeToString(c.Request.Body),
		ExpectedOwnerID: c.Request.ExpectedOwnerID, Decision: v.Decision.String(),
		ShadowDecision: v.ShadowDecision.String(), Reason: reason.String(),
		HTTPStatus: v.HTTPStatus, DecisionID: v.DecisionID,
	}, "", " ")
}

var safeID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// WriteCapture writes c into dir (created 0700 if missing) as
// <yyyymmddThhmmssZ>-<decision id or random>.json, mode 0600, atomically
// (a temporary file renamed into place). It returns the file's path.
func WriteCapture(dir string, c Capture) (string, error) {
	now := time.Now()
	data, err := c.Record(now)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("hookguard: capture directory: %w", err)
	}
	id := c.Verdict.DecisionID
	if !safeID.MatchString(id) {
		id = randomHex(8)
	}
	path := filepath.Join(dir, now.UTC().Format("20060102T150405Z")+"-"+id+".json")
	if _, err := os.Lstat(path); err == nil {
		path = strings.TrimSuffix(path, ".json") + "-" + randomHex(4) + ".json"
	}
	tmp, err := os.CreateTemp(dir, ".capture-*.tmp") // mode 0600
	if err != nil {
		return "", fmt.Errorf("hookguard: capture: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return "", fmt.Errorf("hookguard: capture: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		return "", fmt.Errorf("hookguard: capture: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("hookguard: capture: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("hookguard: capture: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("hookguard: capture: %w", err)
	}
	ok = true
	return path, nil
}

// CaptureToDir is a MiddlewareOptions.Capture hook that writes each capture
// into dir (WriteCapture); a failed write is logged on logger (nil:
// slog.Default()) with the decision id only.
func CaptureToDir(dir string, logger *slog.Logger) func(Capture) {
	if logger == nil {
		logger = slog.Default()
	}
	return func(c Capture) {
		if _, err := WriteCapture(dir, c); err != nil {
			logger.Warn("hookguard capture failed", "decision_id", c.Verdict.DecisionID, "error", err)
		}
	}
}
