// Command replicas_go is the Go half of the web tier of tests/load/replicas.py:
// it sends webhooks through the Go client (client/go, default channel settings)
// to one target until its stdin closes, and prints one JSON line per request.
//
// Usage: replicas_go -target=ipv4:127.0.0.2:P,127.0.0.3:P -workers=4 -pause=5ms <cases.json
// cases.json (first line of stdin): [{"body": base64, "headers": {...}, "expected_owner": "1"}, ...]
// Each output line: {"case": i, "t0": unix ns, "t1": unix ns, "allowed": bool,
// "decision": name, "reason": name, "http": status, "code": gRPC code name or "",
// "owner": owner id, "attempts": n}. attempts counts the RPC's attempts (a stats handler sees
// each one): more than 1 means the client retried.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/hookguard/hookguard/client/go/hookguard"
)

type webhookCase struct {
	Body          []byte            `json:"body"`
	Headers       map[string]string `json:"headers"`
	ExpectedOwner string            `json:"expected_owner"`
}

type result struct {
	Case     int    `json:"case"`
	T0       int64  `json:"t0"`
	T1       int64  `json:"t1"`
	Allowed  bool   `json:"allowed"`
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
	HTTP     int    `json:"http"`
	Code     string `json:"code"`
	Owner    string `json:"owner"`
	Attempts int32  `json:"attempts"`
}

// attemptCounter counts the attempts of each RPC whose context carries a counter.
type attemptCounter struct{}
type counterKey struct{}

func (attemptCounter) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (attemptCounter) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if b, ok := s.(*stats.Begin); ok && b.Client {
		if n, ok := ctx.Value(counterKey{}).(*atomic.Int32); ok {
			n.Add(1)
		}
	}
}
func (attemptCounter) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (attemptCounter) HandleConn(context.Context, stats.ConnStats) {}

// registerIPv4 gives grpc-go the "ipv4:" target scheme that gRPC's C core
// (Python, C++) has built in: "ipv4:HOST:PORT,HOST:PORT,..." resolves to
// exactly those addresses.
func registerIPv4(target string) {
	r := manual.NewBuilderWithScheme("ipv4")
	var state resolver.State
	for _, addr := range strings.Split(strings.TrimPrefix(target, "ipv4:"), ",") {
		state.Addresses = append(state.Addresses, resolver.Address{Addr: addr})
	}
	r.InitialState(state)
	resolver.Register(r)
}

func main() {
	target := flag.String("target", "", "gRPC target of the replicas")
	workers := flag.Int("workers", 4, "concurrent senders")
	pause := flag.Duration("pause", 5*time.Millisecond, "pause after each request, per sender")
	flag.Parse()

	in := bufio.NewReader(os.Stdin)
	line, err := in.ReadBytes('\n')
	var cases []webhookCase
	if err == nil {
		err = json.Unmarshal(line, &cases)
	}
	if err != nil || len(cases) == 0 {
		fmt.Fprintf(os.Stderr, "replicas_go: cases on the first line of stdin: %v\n", err)
		os.Exit(2)
	}
	if strings.HasPrefix(*target, "ipv4:") {
		registerIPv4(*target)
	}
	// The client's defaults (service config, deadline); the stats handler only observes.
	client, err := hookguard.New(*target, hookguard.Options{
		DialOptions: []grpc.DialOption{grpc.WithStatsHandler(attemptCounter{})}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer client.Close()

	stop := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, in); close(stop) }()
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := cases[i%len(cases)]
				n := &atomic.Int32{}
				ctx := context.WithValue(context.Background(), counterKey{}, n)
				t0 := time.Now().UnixNano()
				v := client.Authorize(ctx, hookguard.Request{
					Body: c.Body, Headers: c.Headers, ExpectedOwnerID: c.ExpectedOwner})
				r := result{Case: i % len(cases), T0: t0, T1: time.Now().UnixNano(),
					Allowed: v.Allowed, Decision: v.Decision.String(), Reason: v.Reason.String(),
					HTTP: v.HTTPStatus, Owner: v.OwnerID, Attempts: n.Load()}
				if v.Err != nil {
					r.Code = status.Code(v.Err).String()
				}
				b, _ := json.Marshal(r)
				mu.Lock()
				out.Write(append(b, '\n'))
				mu.Unlock()
				time.Sleep(*pause)
			}
		}(w)
	}
	wg.Wait()
	out.Flush()
}
