// hookguard-server: flags, builder, health, reflection, Wait().
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "httplib.h"
#include "server/audit/audit_log.h"
#include "server/audit/decision_id.h"
#include "server/config/secret_source.h"
#include "server/decision/profile_holder.h"
#include "server/decision/webhook_authorizer.h"
#include "server/ownership/caching_ownership_store.h"
#include "server/ownership/ownership_rules.h"
#include "server/ownership/soci_ownership_store.h"
#include "server/service/instrumented_ownership_store.h"
#include "server/service/metrics.h"
#include "server/service/profile_reloader.h"
#include "server/service/unparseable_request_interceptor.h"
#include "server/service/webhook_auth_service.h"
#include "server/service/worker_pool.h"

ABSL_FLAG(std::string, listen, "0.0.0.0:50051", "Address and port the gRPC server listens on.");
ABSL_FLAG(std::string, db, "",
          "SOCI connection string of the ownership database, e.g. sqlite3://db=/path/app.db or "
          "\"postgresql://host=db port=5432 dbname=app user=hookguard\". Default: the "
          "environment variable HOOKGUARD_DB. Required.");
ABSL_FLAG(std::string, config, "",
          "JSON configuration file (schema hookguard.config.v1.Config). Without it, one hmac "
          "profile reads its secret from VAPI_WEBHOOK_SECRET.");
ABSL_FLAG(int, pool_size, 8, "Database connections.");
ABSL_FLAG(int, db_batch_size, 16,
          "Most ownership lookups sent in one query: lookups that wait while every connection "
          "is busy go out together on the next free one (a lone lookup is sent at once). 1: one "
          "query per lookup. Only the default queries are batched.");
ABSL_FLAG(int, worker_threads, 0,
          "Threads that run requests (a lookup blocks its thread). 0: --pool_size x "
          "--db_batch_size, enough for every connection to carry a full batch.");
ABSL_FLAG(int, db_timeout_ms, 250,
          "Upper bound of one ownership lookup in milliseconds, including the wait for a free "
          "connection; the call's own deadline wins when sooner.");
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

namespace hookguard {
namespace {

constexpr char kServiceName[] = "hookguard.v1.WebhookAuthService";
// A health name that is SERVING while the process runs, whatever the
// database: for liveness and startup probes, so that a database outage takes
// replicas out of the Service (readiness) without restarting them all.
constexpr char kLivenessName[] = "hookguard.liveness";

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "hookguard-server: %s\n", message.c_str());
  std::exit(2);
}

std::string ReadFileOrDie(const std::string& flag, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) Die(absl::StrCat("--", flag, ": cannot read ", path));
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

std::shared_ptr<grpc::ServerCredentials> MakeCredentials(AuditLog& log) {
  const std::string cert = absl::GetFlag(FLAGS_tls_cert);
  const std::string key = absl::GetFlag(FLAGS_tls_key);
  const std::string ca = absl::GetFlag(FLAGS_client_ca);
  if (cert.empty() != key.empty()) Die("--tls_cert and --tls_key must be given together");
  if (cert.empty()) {
    if (!ca.empty()) Die("--client_ca needs --tls_cert and --tls_key");
    if (!absl::GetFlag(FLAGS_allowed_clients).empty()) {
      Die("--allowed_clients needs mutual TLS (--tls_cert, --tls_key, --client_ca)");
    }
    log.Server("warning",
               "PLAINTEXT: TLS is off and any client that can reach the port may call. "
               "Use --tls_cert/--tls_key/--client_ca outside local development.");
    return grpc::InsecureServerCredentials();
  }
  if (!absl::GetFlag(FLAGS_allowed_clients).empty() && ca.empty()) {
    Die("--allowed_clients needs --client_ca (mutual TLS)");
  }
  grpc::SslServerCredentialsOptions options(
      ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                 : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_key_cert_pairs.push_back(
      {ReadFileOrDie("tls_key", key), ReadFileOrDie("tls_cert", cert)});
  if (!ca.empty()) options.pem_root_certs = ReadFileOrDie("client_ca", ca);
  log.Server("info", ca.empty() ? "TLS on (server certificate only)"
                                : "mutual TLS on: clients need a certificate from --client_ca");
  return grpc::SslServerCredentials(options);
}

// The warning of a profile in shadow mode: shadow mode must be loud.
std::string ShadowWarning(const std::string& profile) {
  return absl::StrCat("profile \"", profile,
                      "\" is in shadow mode: every decision is answered ALLOW (HTTP 200), the "
                      "decision enforcement would give is in shadow_decision; set \"mode\": "
                      "\"enforce\" to enforce");
}

// Logs what a newly loaded set of profiles leaves unprotected, the profiles
// in shadow mode and the secrets it left out (key id and file, never a
// value), and sets the shadow-profiles and missing-secrets gauges.
void ReportProfiles(const ProfileSet& profiles, AuditLog& log, Metrics& metrics) {
  for (const std::string& warning : profiles.warnings()) log.Server("warning", warning);
  for (const std::string& name : profiles.shadow_profiles()) {
    log.Server("warning", ShadowWarning(name));
  }
  metrics.SetShadowProfiles(static_cast<int64_t>(profiles.shadow_profiles().size()));
  std::map<std::string, int64_t> missing;
  for (const std::string& name : profiles.names()) missing[name] = 0;
  for (const MissingSecret& secret : profiles.missing_secrets()) {
    ++missing[secret.profile];
    log.Server("error", absl::StrCat("profile \"", secret.profile, "\": secret \"", secret.key_id,
                                     "\" removed, it verifies nothing now: ", secret.why));
  }
  for (const std::string& name : profiles.profiles_without_secret()) {
    log.Server("error", absl::StrCat("profile \"", name,
                                     "\" has no secret left: every signature is refused "
                                     "(MISMATCH) until one of its secret files is back"));
  }
  metrics.SetMissingSecrets(missing);
}

// --check_config: the configuration part of a start, without the start.
int CheckConfig() {
  const std::string path = absl::GetFlag(FLAGS_config);
  EnvAndFileSecretSource secrets;
  ProfileReloader reloader(path, secrets);
  absl::StatusOr<std::shared_ptr<const ProfileSet>> profiles = reloader.Load();
  if (!profiles.ok()) {
    std::fprintf(stderr, "hookguard-server: %s\n",
                 std::string(profiles.status().message()).c_str());
    return 1;
  }
  for (const std::string& warning : (*profiles)->warnings()) {
    std::printf("warning: %s\n", warning.c_str());
  }
  for (const std::string& name : (*profiles)->shadow_profiles()) {
    std::printf("warning: %s\n", ShadowWarning(name).c_str());
  }
  std::printf("%s: OK, the server would start with profiles %s (default %s)\n",
              path.empty() ? "default configuration" : path.c_str(),
              absl::StrJoin((*profiles)->names(), ", ").c_str(),
              (*profiles)->default_profile().c_str());
  return 0;
}

// Blocks SIGTERM and SIGINT in every thread (call before any thread starts);
// WaitForStopSignal() then receives them synchronously.
void BlockStopSignals(sigset_t* set) {
  sigemptyset(set);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGINT);
  pthread_sigmask(SIG_BLOCK, set, nullptr);
}

int Run() {
  AuditLog log(stdout);
  Metrics metrics;

  // Profiles and secrets: any problem stops the start, naming it.
  EnvAndFileSecretSource secrets;
  ProfileReloader reloader(absl::GetFlag(FLAGS_config), secrets);
  absl::StatusOr<std::shared_ptr<const ProfileSet>> initial = reloader.Load();
  if (!initial.ok()) Die(std::string(initial.status().message()));
  ReportProfiles(**initial, log, metrics);
  ProfileHolder profiles(*std::move(initial));

  std::string db = absl::GetFlag(FLAGS_db);
  if (db.empty()) {
    const char* env = std::getenv("HOOKGUARD_DB");
    if (env != nullptr) db = env;
  }
  if (db.empty()) Die("no ownership database: set --db or HOOKGUARD_DB (a SOCI connection string)");
  const int pool_size = absl::GetFlag(FLAGS_pool_size);
  if (pool_size < 1 || pool_size > 1024) Die("--pool_size must be between 1 and 1024");
  const int db_batch_size = absl::GetFlag(FLAGS_db_batch_size);
  if (db_batch_size < 1 || db_batch_size > SociOwnershipStore::kMaxBatch) {
    Die(absl::StrCat("--db_batch_size must be between 1 and ", SociOwnershipStore::kMaxBatch));
  }
  int worker_threads = absl::GetFlag(FLAGS_worker_threads);
  if (worker_threads < 0 || worker_threads > 4096)
    Die("--worker_threads must be between 0 and 4096");
  if (worker_threads == 0) worker_threads = std::min(4096, pool_size * db_batch_size);
  const int db_timeout_ms = absl::GetFlag(FLAGS_db_timeout_ms);
  if (db_timeout_ms < 1) Die("--db_timeout_ms must be positive");
  if (absl::GetFlag(FLAGS_health_interval_ms) < 1) Die("--health_interval_ms must be positive");
  if (absl::GetFlag(FLAGS_log_stall_ms) < 1) Die("--log_stall_ms must be positive");
  const int64_t max_body = absl::GetFlag(FLAGS_max_body_bytes);
  if (max_body < 1 || max_body > (1 << 30)) Die("--max_body_bytes must be between 1 and 1 GiB");

  SociStoreOptions store_options;
  store_options.connection_string = db;
  store_options.pool_size = pool_size;
  store_options.max_batch = db_batch_size;
  store_options.on_batch = [&metrics](int size) { metrics.ObserveDatabaseBatch(size); };
  store_options.query_timeout = absl::Milliseconds(db_timeout_ms);
  // The queries and resolution chain of the configuration loaded above.
  const std::shared_ptr<const ProfileSet> loaded = profiles.Get();
  const ServerSpec& spec = loaded->spec();
  store_options.call_query = spec.queries.call;
  store_options.phone_number_query = spec.queries.phone_number;
  store_options.assistant_query = spec.queries.assistant;
  absl::StatusOr<std::unique_ptr<SociOwnershipStore>> store =
      SociOwnershipStore::Open(store_options);
  if (!store.ok()) Die(std::string(store.status().message()));
  InstrumentedOwnershipStore measured_store(**store, metrics);
  // The optional cache sits in front of the measured store, so the database
  // metrics count real queries only.
  const int cache_ttl_ms = absl::GetFlag(FLAGS_ownership_cache_ttl_ms);
  const int cache_entries = absl::GetFlag(FLAGS_ownership_cache_entries);
  if (cache_ttl_ms < 0 || cache_ttl_ms > 3600 * 1000) {
    Die("--ownership_cache_ttl_ms must be between 0 (off) and 3600000");
  }
  if (cache_entries < 1) Die("--ownership_cache_entries must be positive");
  CachingOwnershipStore cached_store(
      measured_store,
      OwnershipCacheOptions{absl::Milliseconds(cache_ttl_ms), static_cast<size_t>(cache_entries)});
  if (cache_ttl_ms > 0) {
    log.Server("warning",
               absl::StrCat("ownership cache on: found rows are served for up to ", cache_ttl_ms,
                            " ms without reading the database (", cache_entries, " rows at most)"));
  }

  CallEventAuthorizer rules(cached_store, spec.resolve);
  DecisionIdGenerator ids;
  WebhookAuthorizer authorizer(profiles, rules, ids,
                               WebhookAuthorizerOptions{static_cast<size_t>(max_body)});
  ServiceOptions service_options;
  service_options.db_timeout = absl::Milliseconds(db_timeout_ms);
  for (absl::string_view id :
       absl::StrSplit(absl::GetFlag(FLAGS_allowed_clients), ',', absl::SkipWhitespace())) {
    service_options.allowed_clients.emplace(absl::StripAsciiWhitespace(id));
  }
  auto workers = std::make_unique<WorkerPool>(worker_threads);
  WebhookAuthServiceImpl service(authorizer, *workers, log, metrics, service_options);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), MakeCredentials(log), &port);
  // Room for the largest body plus the rest of the message, so that an
  // oversized body reaches us and gets our RESOURCE_EXHAUSTED with a reason.
  builder.SetMaxReceiveMessageSize(static_cast<int>(max_body + (1 << 20)));
  builder.RegisterService(&service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(
      std::make_unique<UnparseableRequestInterceptorFactory>(log, metrics, *workers));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    Die(absl::StrCat("cannot listen on ", absl::GetFlag(FLAGS_listen)));
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  auto set_serving = [health](bool serving) {
    health->SetServingStatus("", serving);
    health->SetServingStatus(kServiceName, serving);
  };
  set_serving(false);  // until the database has answered once
  health->SetServingStatus(kLivenessName, true);

  absl::Notification stopping;
  const absl::Duration health_interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_health_interval_ms));
  // Audit lines batched under load wait at most one interval. Its own
  // thread: a write to a stalled stdout blocks it, never the health loop.
  std::thread flush_loop([&] {
    while (!stopping.WaitForNotificationWithTimeout(health_interval)) log.Flush();
  });
  // Health: SERVING only while the database answers and the audit log is
  // not stuck. Its lines are only queued: it never waits for the log.
  std::thread health_loop([&] {
    const absl::Duration log_stall_bound = absl::Milliseconds(absl::GetFlag(FLAGS_log_stall_ms));
    bool was_up = false;
    bool was_stalled = false;
    do {
      const absl::Status ping = measured_store.Ping(
          absl::Now() + std::max(absl::Seconds(1), absl::Milliseconds(db_timeout_ms)));
      if (stopping.HasBeenNotified()) break;
      const absl::Duration stalled = log.StalledFor();
      const bool log_stalled = stalled >= log_stall_bound;
      set_serving(ping.ok() && !log_stalled);
      metrics.SetDatabaseUp(ping.ok());
      metrics.SetAuditLogStalled(stalled);
      metrics.SetWorkQueueDepth(static_cast<int64_t>(workers->queued()));
      if (ping.ok() != was_up) {
        log.Server(ping.ok() ? "info" : "error",
                   ping.ok() ? "database answers: SERVING"
                             : absl::StrCat("database unavailable: NOT_SERVING: ", ping.message()),
                   /*queue_only=*/true);
        was_up = ping.ok();
      }
      if (log_stalled != was_stalled) {
        log.Server(log_stalled ? "error" : "info",
                   log_stalled
                       ? absl::StrCat("audit log write blocked for ", absl::FormatDuration(stalled),
                                      " (stdout not read): NOT_SERVING")
                       : "audit log writes again",
                   /*queue_only=*/true);
        was_stalled = log_stalled;
      }
    } while (!stopping.WaitForNotificationWithTimeout(health_interval));
  });

  // Rotation: reload changed configuration and secret files.
  std::thread reload_loop([&] {
    const int seconds = absl::GetFlag(FLAGS_reload_interval_seconds);
    if (seconds <= 0) return;
    while (!stopping.WaitForNotificationWithTimeout(absl::Seconds(seconds))) {
      absl::StatusOr<std::shared_ptr<const ProfileSet>> next = reloader.ReloadIfChanged();
      if (!next.ok()) {
        metrics.ObserveReload(false);
        log.Server("error", absl::StrCat("reload failed, keeping the previous configuration: ",
                                         next.status().message()));
      } else if (*next != nullptr) {
        ReportProfiles(**next, log, metrics);
        rules.SetPolicy((*next)->spec().resolve);
        profiles.Set(*std::move(next));
        metrics.ObserveReload(true);
        log.Server("info", "configuration and secrets reloaded");
      }
    }
  });

  // Metrics over plain HTTP on their own port.
  httplib::Server metrics_http;
  std::thread metrics_loop;
  if (const std::string where = absl::GetFlag(FLAGS_metrics_listen); !where.empty()) {
    const size_t colon = where.rfind(':');
    int metrics_port = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(where.substr(colon + 1), &metrics_port)) {
      Die(absl::StrCat("--metrics_listen: expected host:port, got \"", where, "\""));
    }
    metrics_http.Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.Render(), "text/plain; version=0.0.4");
    });
    if (!metrics_http.bind_to_port(where.substr(0, colon), metrics_port)) {
      Die(absl::StrCat("--metrics_listen: cannot listen on ", where));
    }
    metrics_loop = std::thread([&metrics_http] { metrics_http.listen_after_bind(); });
  }

  log.Server("info",
             absl::StrCat("hookguard-server listening on ", absl::GetFlag(FLAGS_listen), " (port ",
                          port, "), profiles: ", absl::StrJoin(profiles.Get()->names(), ","),
                          ", default: ", profiles.Get()->default_profile()));

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);

  // Drain: NOT_SERVING first (load balancers stop sending), then let
  // in-flight calls finish within the bound; new calls are refused.
  log.Server("info", absl::StrCat("signal ", signal_number, ": NOT_SERVING, draining up to ",
                                  absl::GetFlag(FLAGS_drain_seconds), "s"));
  stopping.Notify();
  health->Shutdown();
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::seconds(absl::GetFlag(FLAGS_drain_seconds)));
  server->Wait();
  workers.reset();  // runs what was already scheduled
  health_loop.join();
  flush_loop.join();
  reload_loop.join();
  if (metrics_loop.joinable()) {
    metrics_http.stop();
    metrics_loop.join();
  }
  log.Server("info", "stopped");
  return 0;
}

}  // namespace
}  // namespace hookguard

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which turns on the Mutex deadlock
  // detector: a graph update on every lock, a few percent of a request's CPU
  // in the profile (docs/performance.md). Our lock order is flat (no nested
  // locks), which the unit tests exercise with the detector still on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  sigset_t stop_signals;
  hookguard::BlockStopSignals(&stop_signals);
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
  return hookguard::Run();
}
