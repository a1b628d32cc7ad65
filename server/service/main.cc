// hookguard-server: flags -> ServerOptions -> Server (server.h): Start,
// wait for SIGTERM or SIGINT, Drain.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "server/audit/audit_log.h"
#include "server/config/secret_source.h"
#include "server/config/server_spec.h"
#include "server/ownership/soci_ownership_store.h"
#include "server/service/profile_reloader.h"
#include "server/service/server.h"

#ifdef HOOKGUARD_JEMALLOC
// jemalloc reads this at start (the MALLOC_CONF environment variable still
// overrides it). Its default keeps freed pages for 10 s and returns them only
// when the process allocates again, so after a burst or an attack RSS stayed
// at its peak. A background thread returns them after about a second, straight
// to the kernel (no lazy MADV_FREE step, which would still count in RSS).
extern "C" {
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
#endif

ABSL_FLAG(std::string, listen, "0.0.0.0:50051", "Address and port the gRPC server listens on.");
ABSL_FLAG(std::string, db, "",
          "SOCI connection string of the ownership database, e.g. sqlite3://db=/path/app.db or "
          "\"postgresql://host=db port=5432 dbname=app user=hookguard\". Default: the "
          "environment variable HOOKGUARD_DB. Required.");
ABSL_FLAG(std::string, config, "",
          "JSON configuration file (schema hookguard.config.v1.Config). Without it, one hmac "
          "profile reads its secret from VAPI_WEBHOOK_SECRET.");
ABSL_FLAG(std::string, db_read, "",
          "SOCI connection string of a PostgreSQL read replica (libpq's multi-host form "
          "allowed, e.g. \"postgresql://host=r1,r2 ... target_session_attrs=prefer-standby\"): "
          "lookups go there first; a lookup it answers with no row is confirmed on --db (the "
          "primary) before anyone acts on it. Default: the environment variable "
          "HOOKGUARD_DB_READ. Empty: every lookup reads --db.");
ABSL_FLAG(int, db_read_max_lag_ms, 5000,
          "While the read replica's replay lag (measured on the replica every "
          "--health_interval_ms) is above this, or unknown, every lookup reads --db: the "
          "bound on how stale a row read from the replica can be.");
ABSL_FLAG(int, pool_size, 4, "Database connections (to --db, and as many to --db_read).");
ABSL_FLAG(
    int, db_batch_size, 16,
    "Most ownership lookups sent in one query: lookups that wait while every connection "
    "is busy go out together on the next free one (a lone lookup is sent at once). 1: one "
    "query per lookup. A configured query is batched as UNION ALL of copies of itself when it "
    "can be.");
ABSL_FLAG(int, worker_threads, 0,
          "Threads that run requests. A lookup blocks its thread only while it runs on a "
          "connection; a queued lookup holds none. 0: --pool_size plus one per CPU core.");
ABSL_FLAG(int, db_timeout_ms, 250,
          "Upper bound of one ownership lookup in milliseconds, including the wait for a free "
          "connection; the call's own deadline wins when sooner. On SQLite a lookup waits for "
          "the app's write lock until the call's own deadline (this bound then applies to "
          "calls without one).");
ABSL_FLAG(int, ownership_cache_ttl_ms, 0,
          "How long a found ownership row may be served from memory without asking the "
          "database, in milliseconds. 0: off (every request reads the database). A revoked or "
          "reassigned call can be answered from the old row for up to this long; not-found "
          "answers and errors are never cached.");
ABSL_FLAG(int, ownership_cache_entries, 10000,
          "Most rows the ownership cache holds (with --ownership_cache_ttl_ms > 0); the oldest "
          "go first.");
ABSL_FLAG(int64_t, max_body_bytes, 4 << 20,
          "Largest webhook body accepted; larger ones are answered RESOURCE_EXHAUSTED.");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port for the Prometheus /metrics endpoint (HTTP). Empty: off.");
ABSL_FLAG(std::string, tls_cert, "", "PEM server certificate chain. With --tls_key: TLS on.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, client_ca, "",
          "PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS).");
ABSL_FLAG(std::string, allowed_clients, "",
          "Comma-separated client identities (certificate SAN or CN) allowed to call; empty "
          "allows every client the CA accepts. Needs --client_ca.");
ABSL_FLAG(int, reload_interval_seconds, 5,
          "How often the configuration and secret files are checked for changes; 0: never.");
ABSL_FLAG(int, health_interval_ms, 1000,
          "How often the database is pinged, and the audit log checked, for health.");
ABSL_FLAG(int, log_stall_ms, 5000,
          "Readiness health turns NOT_SERVING while one write of the audit log to stdout has "
          "been blocked this long (a full pipe, a stuck log collector: answers wait for the "
          "log); SERVING again once it completes. Liveness is not affected.");
ABSL_FLAG(bool, check_config, false,
          "Check the configuration as a start would (--config, or without it the default "
          "profile and VAPI_WEBHOOK_SECRET: profiles, secrets readable, ownership queries as far "
          "as can be told without the database), print what is wrong or what the start would "
          "warn about, and exit: 0 when the server would start, 1 otherwise. Needs no --db.");
ABSL_FLAG(int, drain_seconds, 20,
          "On SIGTERM: health turns NOT_SERVING, then in-flight calls get this long to finish.");
ABSL_FLAG(int, max_connection_age_seconds, 0,
          "Close each client connection gracefully (GOAWAY; calls in flight finish) after this "
          "long, so that clients reconnect and spread over replicas added since. 0: never.");
ABSL_FLAG(int, max_concurrent_streams, 100,
          "Calls one client connection may have open at once (HTTP/2 SETTINGS); more wait in "
          "the client. Bounds what one connection can make the server hold.");
ABSL_FLAG(int64_t, memory_quota_bytes, int64_t{64} << 20,
          "gRPC's buffers across all connections (its resource quota). Under pressure gRPC "
          "shrinks flow-control windows, closes idle connections, then cancels streams. Keep it "
          "well under the container's memory limit.");
ABSL_FLAG(int, max_metadata_bytes, 8192,
          "Largest header list of one call; a larger one resets the call. The webhook's own "
          "headers travel in the message, not here.");
ABSL_FLAG(int, max_connection_idle_seconds, 120,
          "A connection with no call for this long is closed gracefully (GOAWAY); 0: never. "
          "Also ends a connection whose call headers never end (an HTTP/2 CONTINUATION flood, "
          "which gRPC 1.51 buffers without a size limit).");
ABSL_FLAG(int, handshake_timeout_ms, 10000,
          "A connection that has not finished TLS and sent its HTTP/2 SETTINGS by then is "
          "closed.");

namespace hookguard {
namespace {

// The flags as ServerOptions. InvalidArgument names the flag.
absl::StatusOr<ServerOptions> OptionsFromFlags() {
  auto invalid = [](auto&&... parts) { return absl::InvalidArgumentError(absl::StrCat(parts...)); };
  ServerOptions o;
  o.listen = absl::GetFlag(FLAGS_listen);
  o.config_path = absl::GetFlag(FLAGS_config);
  o.db = absl::GetFlag(FLAGS_db);
  if (o.db.empty()) {
    const char* env = std::getenv("HOOKGUARD_DB");
    if (env != nullptr) o.db = env;
  }
  o.db_read = absl::GetFlag(FLAGS_db_read);
  if (o.db_read.empty()) {
    const char* env = std::getenv("HOOKGUARD_DB_READ");
    if (env != nullptr) o.db_read = env;
  }
  const int max_lag_ms = absl::GetFlag(FLAGS_db_read_max_lag_ms);
  if (max_lag_ms < 0 || max_lag_ms > 3600 * 1000) {
    return invalid("--db_read_max_lag_ms must be between 0 and 3600000");
  }
  o.db_read_max_lag = absl::Milliseconds(max_lag_ms);
  o.pool_size = absl::GetFlag(FLAGS_pool_size);
  if (o.pool_size < 1 || o.pool_size > 1024)
    return invalid("--pool_size must be between 1 and 1024");
  o.db_batch_size = absl::GetFlag(FLAGS_db_batch_size);
  if (o.db_batch_size < 1 || o.db_batch_size > SociOwnershipStore::kMaxBatch) {
    return invalid("--db_batch_size must be between 1 and ", SociOwnershipStore::kMaxBatch);
  }
  o.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  if (o.worker_threads < 0 || o.worker_threads > 4096) {
    return invalid("--worker_threads must be between 0 and 4096");
  }
  if (o.worker_threads == 0) {
    o.worker_threads = std::min(
        4096, o.pool_size + std::max(2, static_cast<int>(std::thread::hardware_concurrency())));
  }
  const int db_timeout_ms = absl::GetFlag(FLAGS_db_timeout_ms);
  if (db_timeout_ms < 1) return invalid("--db_timeout_ms must be positive");
  o.db_timeout = absl::Milliseconds(db_timeout_ms);
  const int cache_ttl_ms = absl::GetFlag(FLAGS_ownership_cache_ttl_ms);
  if (cache_ttl_ms < 0 || cache_ttl_ms > 3600 * 1000) {
    return invalid("--ownership_cache_ttl_ms must be between 0 (off) and 3600000");
  }
  o.ownership_cache_ttl = absl::Milliseconds(cache_ttl_ms);
  const int cache_entries = absl::GetFlag(FLAGS_ownership_cache_entries);
  if (cache_entries < 1) return invalid("--ownership_cache_entries must be positive");
  o.ownership_cache_entries = static_cast<size_t>(cache_entries);
  const int64_t max_body = absl::GetFlag(FLAGS_max_body_bytes);
  if (max_body < 1 || max_body > (1 << 30)) {
    return invalid("--max_body_bytes must be between 1 and 1 GiB");
  }
  o.max_body_bytes = static_cast<size_t>(max_body);
  if (const std::string where = absl::GetFlag(FLAGS_metrics_listen); !where.empty()) {
    const size_t colon = where.rfind(':');
    if (colon == std::string::npos || !absl::SimpleAtoi(where.substr(colon + 1), &o.metrics_port) ||
        o.metrics_port < 1 || o.metrics_port > 65535) {
      return invalid("--metrics_listen: expected host:port, got \"", where, "\"");
    }
    o.metrics_host = where.substr(0, colon);
  }
  o.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  o.tls_key = absl::GetFlag(FLAGS_tls_key);
  o.client_ca = absl::GetFlag(FLAGS_client_ca);
  for (absl::string_view id :
       absl::StrSplit(absl::GetFlag(FLAGS_allowed_clients), ',', absl::SkipWhitespace())) {
    o.allowed_clients.emplace(absl::StripAsciiWhitespace(id));
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return invalid("--tls_cert and --tls_key must be given together");
  }
  if (o.tls_cert.empty() && !o.client_ca.empty()) {
    return invalid("--client_ca needs --tls_cert and --tls_key");
  }
  if (!o.allowed_clients.empty() && o.client_ca.empty()) {
    return invalid(o.tls_cert.empty()
                       ? "--allowed_clients needs mutual TLS (--tls_cert, --tls_key, --client_ca)"
                       : "--allowed_clients needs --client_ca (mutual TLS)");
  }
  o.reload_interval = absl::Seconds(std::max(0, absl::GetFlag(FLAGS_reload_interval_seconds)));
  const int health_ms = absl::GetFlag(FLAGS_health_interval_ms);
  if (health_ms < 1) return invalid("--health_interval_ms must be positive");
  o.health_interval = absl::Milliseconds(health_ms);
  const int log_stall_ms = absl::GetFlag(FLAGS_log_stall_ms);
  if (log_stall_ms < 1) return invalid("--log_stall_ms must be positive");
  o.log_stall = absl::Milliseconds(log_stall_ms);
  o.drain = absl::Seconds(absl::GetFlag(FLAGS_drain_seconds));
  const int max_age = absl::GetFlag(FLAGS_max_connection_age_seconds);
  if (max_age < 0 || max_age > 1000000) {
    return invalid("--max_connection_age_seconds must be between 0 and 1000000");
  }
  o.max_connection_age = absl::Seconds(max_age);
  o.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  if (o.max_concurrent_streams < 1 || o.max_concurrent_streams > 10000) {
    return invalid("--max_concurrent_streams must be between 1 and 10000");
  }
  o.memory_quota_bytes = absl::GetFlag(FLAGS_memory_quota_bytes);
  if (o.memory_quota_bytes < (int64_t{16} << 20) || o.memory_quota_bytes > (int64_t{64} << 30)) {
    return invalid("--memory_quota_bytes must be between 16 MiB and 64 GiB");
  }
  o.max_metadata_bytes = absl::GetFlag(FLAGS_max_metadata_bytes);
  if (o.max_metadata_bytes < 1024 || o.max_metadata_bytes > (1 << 20)) {
    return invalid("--max_metadata_bytes must be between 1024 and 1048576");
  }
  const int idle = absl::GetFlag(FLAGS_max_connection_idle_seconds);
  if (idle < 0 || idle > 1000000) {
    return invalid("--max_connection_idle_seconds must be between 0 and 1000000");
  }
  o.max_connection_idle = absl::Seconds(idle);
  const int handshake_ms = absl::GetFlag(FLAGS_handshake_timeout_ms);
  if (handshake_ms < 100 || handshake_ms > 600000) {
    return invalid("--handshake_timeout_ms must be between 100 and 600000");
  }
  o.handshake_timeout = absl::Milliseconds(handshake_ms);
  return o;
}

// --check_config: the configuration part of a start (ProfileReloader::Load,
// as Server::Start), without the start.
int CheckConfig() {
  const std::string path = absl::GetFlag(FLAGS_config);
  const EnvAndFileSecretSource secrets;
  ProfileReloader reloader(path, secrets);
  absl::StatusOr<std::shared_ptr<const ProfileSet>> profiles = reloader.Load();
  if (!profiles.ok()) {
    std::fprintf(stderr, "hookguard-server: %s\n",
                 std::string(profiles.status().message()).c_str());
    return 1;
  }
  for (const std::string& warning : ProfileWarningLines(**profiles)) {
    std::printf("warning: %s\n", warning.c_str());
  }
  for (const std::string& line : DescribeOwnership((*profiles)->spec())) {
    std::printf("%s\n", line.c_str());
  }
  std::printf("%s: OK, the server would start with profiles %s (default %s)\n",
              path.empty() ? "default configuration" : path.c_str(),
              absl::StrJoin((*profiles)->names(), ", ").c_str(),
              (*profiles)->default_profile().c_str());
  return 0;
}

// SIGTERM and SIGINT, blocked in every thread (before any thread starts) so
// that main receives them with sigwait.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

[[noreturn]] void Die(absl::string_view message) {
  std::fprintf(stderr, "hookguard-server: %s\n", std::string(message).c_str());
  std::exit(2);
}

}  // namespace
}  // namespace hookguard

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which turns on the Mutex deadlock
  // detector: a graph update on every lock, a few percent of a request's CPU
  // in the profile (docs/dev/benchmark-history.md). Our lock order is flat (no nested
  // locks), which the unit tests exercise with the detector still on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const sigset_t stop_signals = hookguard::BlockStopSignals();
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view path) {
    return absl::StrContains(path, "server/service/main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "decides whether a webhook may be processed.\n"
      "Usage: hookguard-server --db=CONN [--listen=ADDR] [--config=FILE] [flags]\n"
      "       hookguard-server --check_config [--config=FILE]\n"
      "Exits 2 with a message naming the problem when the configuration, a secret or a flag "
      "is wrong.");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "hookguard-server: unexpected argument \"%s\" (flags use --name=value)\n",
                 rest[1]);
    return 2;
  }
  if (absl::GetFlag(FLAGS_check_config)) return hookguard::CheckConfig();
  absl::StatusOr<hookguard::ServerOptions> options = hookguard::OptionsFromFlags();
  if (!options.ok()) hookguard::Die(options.status().message());
  hookguard::AuditLog log(stdout);
  hookguard::Server server(*std::move(options), log);
  if (absl::Status started = server.Start(); !started.ok()) hookguard::Die(started.message());
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server.Drain(absl::StrCat("signal ", signal_number));
  return 0;
}
