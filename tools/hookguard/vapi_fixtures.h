// The repository's VAPI server messages (tests/fixtures/vapi), built into the
// `hookguard` binary for `hookguard sign --fixture=NAME`.
#ifndef HOOKGUARD_TOOLS_HOOKGUARD_VAPI_FIXTURES_H_
#define HOOKGUARD_TOOLS_HOOKGUARD_VAPI_FIXTURES_H_

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace hookguard::cli {

struct EmbeddedFixture {
  const char* name;        // the file name without ".json", e.g. "status-update"
  absl::string_view body;  // the file's bytes
};

// Every fixture, ordered by name.
absl::Span<const EmbeddedFixture> VapiFixtures();

}  // namespace hookguard::cli

#endif  // HOOKGUARD_TOOLS_HOOKGUARD_VAPI_FIXTURES_H_
