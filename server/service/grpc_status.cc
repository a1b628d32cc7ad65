#include "server/service/grpc_status.h"

#include <string>

namespace hookguard {
namespace {

// The caller's message for a code whose own message must stay in the log;
// nullptr for a code whose message is the caller's to read.
const char* PublicMessage(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
      return "ownership database unavailable; retry later (details in the server log)";
    case absl::StatusCode::kFailedPrecondition:
      return "ownership data breaks the lookup's contract (details in the server log)";
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
      return "internal error (details in the server log)";
    default:
      return nullptr;
  }
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const char* public_message = PublicMessage(status.code());
  return grpc::Status(
      static_cast<grpc::StatusCode>(status.code()),
      public_message != nullptr ? std::string(public_message) : std::string(status.message()));
}

}  // namespace hookguard
