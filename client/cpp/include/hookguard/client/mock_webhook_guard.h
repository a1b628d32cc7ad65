// gMock of hookguard::WebhookGuard for the tests of code that uses it.
#ifndef HOOKGUARD_CLIENT_MOCK_WEBHOOK_GUARD_H_
#define HOOKGUARD_CLIENT_MOCK_WEBHOOK_GUARD_H_

#include <gmock/gmock.h>

#include "hookguard/client/webhook_guard.h"

namespace hookguard {

class MockWebhookGuard : public WebhookGuard {
 public:
  MOCK_METHOD(Verdict, Authorize, (const WebhookRequest& request), (override));
};

}  // namespace hookguard

#endif  // HOOKGUARD_CLIENT_MOCK_WEBHOOK_GUARD_H_
