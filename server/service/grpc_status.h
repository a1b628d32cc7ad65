// The one conversion from absl::Status (inside) to grpc::Status (the edge).
#ifndef HOOKGUARD_SERVER_SERVICE_GRPC_STATUS_H_
#define HOOKGUARD_SERVER_SERVICE_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace hookguard {

// Same code, same message. The canonical codes are numbered alike in both.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SERVICE_GRPC_STATUS_H_
