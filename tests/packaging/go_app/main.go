// A fresh module's web server: one webhook route behind hookguard.Middleware.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"

	"github.com/hookguard/hookguard/client/go/hookguard"
)

func main() {
	client, err := hookguard.New(os.Getenv("HOOKGUARD_TARGET"), hookguard.Options{})
	if err != nil {
		log.Fatal(err)
	}
	guard := hookguard.Middleware(client, hookguard.MiddlewareOptions{})
	mux := http.NewServeMux()
	mux.Handle("/webhooks/vapi", guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner, _ := hookguard.OwnerID(r.Context())
		var event struct {
			Message struct {
				Type string `json:"type"`
			} `json:"message"`
		}
		_ = json.NewDecoder(r.Body).Decode(&event)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"owner": owner, "type": event.Message.Type})
	})))
	log.Fatal(http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), mux))
}
