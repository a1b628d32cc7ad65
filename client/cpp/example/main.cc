// Asks hookguard about one webhook and prints the HTTP status to answer.
// With no server at the target it must print 503 (fail closed) and exit 0.
#include <iostream>

#include "hookguard/client/webhook_guard.h"

int main(int argc, char** argv) {
  const std::string target = argc > 1 ? argv[1] : "localhost:50051";
  const std::string raw_body =
      R"({"message":{"type":"status-update","call":{"id":"call_alice_1"}}})";
  // --- docs/reference/clients.md: C++ ---
  // One per process; thread-safe. Code against hookguard::WebhookGuard& and
  // use hookguard::MockWebhookGuard (mock_webhook_guard.h) in tests.
  std::unique_ptr<hookguard::WebhookGuard> guard = hookguard::GrpcWebhookGuard::Create(target);
  hookguard::WebhookRequest request;
  request.body = raw_body;                         // the raw bytes as received
  request.headers = {{"x-vapi-signature", "00"}};  // the request's headers
  hookguard::Verdict verdict = guard->Authorize(request);
  if (!verdict.allowed) {
    std::cout << verdict.http_status << "\n";  // answer the platform with this
    return verdict.http_status == 503 || verdict.http_status == 401 ? 0 : 1;
  }
  std::cout << "allowed for owner " << verdict.owner_id << "\n";
  // --- end ---
  return 0;
}
