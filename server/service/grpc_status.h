// The one conversion from absl::Status (inside) to grpc::Status (the edge).
#ifndef HOOKGUARD_SERVER_SERVICE_GRPC_STATUS_H_
#define HOOKGUARD_SERVER_SERVICE_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace hookguard {

// Same code (the canonical codes are numbered alike in both). The message is
// kept for the codes whose messages we write ourselves from what the caller
// sent (INVALID_ARGUMENT, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED,
// PERMISSION_DENIED, ...). For UNAVAILABLE, FAILED_PRECONDITION, INTERNAL,
// UNKNOWN and DATA_LOSS the message comes from a database driver or a broken
// row and may hold SQL text, bound ids or server internals: the caller gets a
// short fixed message instead, and the full one goes to the server log only
// (the audit line's `detail`).
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SERVICE_GRPC_STATUS_H_
