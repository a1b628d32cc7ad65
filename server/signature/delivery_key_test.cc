#include "server/signature/delivery_key.h"

#include "gtest/gtest.h"

namespace hookguard {
namespace {

VerifyOutcome Valid(std::string message_id, bool signed_id) {
  VerifyOutcome outcome;
  outcome.result = v1::SIGNATURE_RESULT_VALID;
  outcome.message_id = std::move(message_id);
  outcome.message_id_signed = signed_id;
  return outcome;
}

TEST(DeliveryKey, IsTheHexSha256OfTheBodyWithoutASignedId) {
  // sha256("abc"), FIPS 180-2 test vector.
  EXPECT_EQ(DeliveryKey(Valid("", false), "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // An id the MAC does not cover (GitHub's delivery header) is not used.
  EXPECT_EQ(DeliveryKey(Valid("delivery-1", false), "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DeliveryKey, IsTheSignedMessageId) {
  EXPECT_EQ(DeliveryKey(Valid("msg_2Lh9", true), "abc"), "msg_2Lh9");
}

TEST(DeliveryKey, IsEmptyUnlessValid) {
  for (v1::SignatureResult result : {v1::SIGNATURE_RESULT_MISSING, v1::SIGNATURE_RESULT_MALFORMED,
                                     v1::SIGNATURE_RESULT_MISMATCH, v1::SIGNATURE_RESULT_STALE}) {
    VerifyOutcome outcome = Valid("msg", true);
    outcome.result = result;
    EXPECT_EQ(DeliveryKey(outcome, "abc"), "") << v1::SignatureResult_Name(result);
  }
}

}  // namespace
}  // namespace hookguard
