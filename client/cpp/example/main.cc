// Asks hookguard about one webhook and prints the HTTP status to answer.
// With no server at the target it must print 503 (fail closed) and exit 0.
#include <iostream>

#include "hookguard/client/webhook_guard.h"

int main(int argc, char** argv) {
  auto guard = hookguard::GrpcWebhookGuard::Create(argc > 1 ? argv[1] : "localhost:50051");
  hookguard::WebhookRequest request;
  request.body = R"({"message":{"type":"status-update","call":{"id":"call_alice_1"}}})";
  request.headers = {{"x-vapi-signature", "00"}};
  hookguard::Verdict verdict = guard->Authorize(request);
  if (!verdict.allowed) {
    std::cout << verdict.http_status << "\n";  // answer the platform with this
    return verdict.http_status == 503 || verdict.http_status == 401 ? 0 : 1;
  }
  std::cout << "allowed for owner " << verdict.owner_id << "\n";
  return 0;
}
