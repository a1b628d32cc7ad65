// Parsing a 300 KB end-of-call report next to an HMAC-SHA256 of the same
// bytes: the parse must not cost more than the signature check before it.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "server/payload/call_event_parser.h"

namespace hookguard {
namespace {

std::string EndOfCallReport(size_t min_bytes) {
  std::string messages;
  for (int turn = 0; messages.size() < min_bytes; ++turn) {
    absl::StrAppend(&messages, turn ? "," : "", R"({"role": ")", turn % 2 ? "bot" : "user",
                    R"(", "message": "Bonjour, je voudrais r\u00e9server une table pour )", turn,
                    R"( personnes, merci.", "time": )", 1700000000000 + turn,
                    R"(, "secondsFromStart": )", turn * 1.5, "}");
  }
  return absl::StrCat(
      R"({"message": {"type": "end-of-call-report", "artifact": {"messages": [)", messages,
      R"(]}, "phoneNumber": {"id": "pn"}, "call": {"id": "call", "assistantId": "asst"}}})");
}

const std::string& Body() {
  static const std::string* body = new std::string(EndOfCallReport(300 * 1024));
  return *body;
}

void BM_ParseCallEvent300KB(benchmark::State& state) {
  const std::string& body = Body();
  for (auto _ : state) {
    auto event = ParseCallEvent(body);
    if (!event.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(event);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * body.size());
}
BENCHMARK(BM_ParseCallEvent300KB);

void BM_HmacSha256300KB(benchmark::State& state) {
  const std::string& body = Body();
  const std::string key(32, 'k');
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  for (auto _ : state) {
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &mac_size);
    benchmark::DoNotOptimize(mac);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * body.size());
}
BENCHMARK(BM_HmacSha256300KB);

}  // namespace
}  // namespace hookguard

BENCHMARK_MAIN();
