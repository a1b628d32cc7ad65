// The floor of the load benchmark: a gRPC callback server that serves the
// same AuthorizeWebhook method as hookguard-server but does nothing except
// receive and deserialize the request, then answer an empty response.
// Built with the same gRPC library and compiler flags as the real server, so
// that hookguard's throughput can be compared with what gRPC alone allows on
// this machine (scripts/bench.sh, docs/performance.md).
//
// Usage: hookguard-floor-server --listen=127.0.0.1:PORT
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "grpcpp/grpcpp.h"
#include "hookguard/v1/hookguard.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50099", "Address and port to listen on.");
ABSL_FLAG(int, max_receive_bytes, (4 << 20) + (1 << 20),
          "Largest request accepted (the same default as hookguard-server's).");

namespace hookguard {
namespace {

// Reads the request (gRPC deserializes it before the handler runs) and
// answers OK with an empty response. Thread-safe: no state.
class FloorService final : public v1::WebhookAuthService::CallbackService {
 public:
  grpc::ServerUnaryReactor* AuthorizeWebhook(grpc::CallbackServerContext* context,
                                             const v1::AuthorizeWebhookRequest* request,
                                             v1::AuthorizeWebhookResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* VerifySignature(grpc::CallbackServerContext* context,
                                            const v1::VerifySignatureRequest* request,
                                            v1::VerifySignatureResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

int Run() {
  FloorService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(absl::GetFlag(FLAGS_max_receive_bytes));
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return 2;
  server->Wait();
  return 0;
}

}  // namespace
}  // namespace hookguard

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return hookguard::Run();
}
