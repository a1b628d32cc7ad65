// Go's encoding/json, read as a Go web tier reads a VAPI event: unmarshalled
// into a struct whose json tags are VAPI's field names, the flat shape's
// fields embedded at the root. Like the net/http example of docs/reference/clients.md,
// the ids are used even when Unmarshal returns an error (a type error in one
// field leaves the others filled). Usage: go run . BODIES.
// Output and reading rule: see ../read_python.py.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
)

type Call struct {
	ID            string `json:"id"`
	AssistantID   string `json:"assistantId"`
	PhoneNumberID string `json:"phoneNumberId"`
	OrgID         string `json:"orgId"`
}

type PhoneNumber struct {
	ID string `json:"id"`
}

// Chat is a chat or session object: no call, an assistant.
type Chat struct {
	AssistantID string `json:"assistantId"`
	OrgID       string `json:"orgId"`
}

type Event struct {
	Type        string       `json:"type"`
	Call        *Call        `json:"call"`
	PhoneNumber *PhoneNumber `json:"phoneNumber"`
	Chat        *Chat        `json:"chat"`
	Session     *Chat        `json:"session"`
}

type Body struct {
	Message *Event `json:"message"`
	Event          // the flat shape
}

type Read struct {
	Reader    string `json:"reader"`
	I         int    `json:"i"`
	Call      string `json:"call"`
	Assistant string `json:"assistant"`
	Phone     string `json:"phone"`
	Error     string `json:"error,omitempty"`
}

func read(raw []byte) Read {
	var body Body
	var out Read
	if err := json.Unmarshal(raw, &body); err != nil {
		out.Error = err.Error()
	}
	event := &body.Event
	if body.Message != nil {
		event = body.Message
	}
	switch {
	case event.Call != nil:
		call := event.Call
		out.Call, out.Assistant, out.Phone = call.ID, call.AssistantID, call.PhoneNumberID
	case event.Chat != nil:
		out.Assistant = event.Chat.AssistantID
	case event.Session != nil:
		out.Assistant = event.Session.AssistantID
	}
	if out.Phone == "" && event.PhoneNumber != nil {
		out.Phone = event.PhoneNumber.ID
	}
	return out
}

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<24)
	out := json.NewEncoder(os.Stdout)
	for i := 0; scanner.Scan(); i++ {
		raw, err := base64.StdEncoding.DecodeString(scanner.Text())
		r := Read{Error: fmt.Sprint(err)}
		if err == nil {
			r = read(raw)
		}
		r.Reader, r.I = "go encoding/json", i
		if err := out.Encode(r); err != nil {
			os.Exit(2)
		}
	}
	if err := scanner.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
