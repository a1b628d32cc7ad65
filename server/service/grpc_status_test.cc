#include "server/service/grpc_status.h"

#include <string>

#include "gtest/gtest.h"

namespace hookguard {
namespace {

// What SOCI says when a lookup fails: the SQL and the bound id.
constexpr char kDriverMessage[] =
    "ownership query failed: no such table: api_assistant while executing \"SELECT "
    "CAST(c.user_id AS TEXT) FROM api_interviewcall c WHERE c.vapi_call_id = :call_id\" with "
    ":call_id=\"call_alice_1\".";

TEST(ToGrpcStatus, KeepsTheCodeAndHidesDriverTextFromTheCaller) {
  for (absl::StatusCode code :
       {absl::StatusCode::kUnavailable, absl::StatusCode::kFailedPrecondition,
        absl::StatusCode::kInternal, absl::StatusCode::kUnknown, absl::StatusCode::kDataLoss}) {
    const grpc::Status status = ToGrpcStatus(absl::Status(code, kDriverMessage));
    EXPECT_EQ(static_cast<int>(status.error_code()), static_cast<int>(code));
    EXPECT_FALSE(status.error_message().empty());
    for (const char* secret : {"SELECT", "call_alice_1", "api_assistant", ":call_id"}) {
      EXPECT_EQ(status.error_message().find(secret), std::string::npos)
          << absl::StatusCodeToString(code) << ": " << status.error_message();
    }
  }
}

TEST(ToGrpcStatus, KeepsOurOwnMessagesForTheCaller) {
  for (const absl::Status& s :
       {absl::InvalidArgumentError("unknown profile \"x\""),
        absl::ResourceExhaustedError("body of 9 bytes is over the limit of 8"),
        absl::DeadlineExceededError("ownership database answered after the deadline"),
        absl::PermissionDeniedError("client identity is not on the allowlist")}) {
    const grpc::Status status = ToGrpcStatus(s);
    EXPECT_EQ(static_cast<int>(status.error_code()), static_cast<int>(s.code()));
    EXPECT_EQ(status.error_message(), s.message());
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

}  // namespace
}  // namespace hookguard
