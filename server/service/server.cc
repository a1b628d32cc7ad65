#include "server/service/server.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "httplib.h"
#include "server/service/unparseable_request_interceptor.h"

namespace hookguard {
namespace {

constexpr char kServiceName[] = "hookguard.v1.WebhookAuthService";
// A health name that is SERVING while the process runs, whatever the
// database: for liveness and startup probes, so that a database outage takes
// replicas out of the Service (readiness) without restarting them all.
constexpr char kLivenessName[] = "hookguard.liveness";

// The warning of a profile in shadow mode: shadow mode must be loud.
std::string ShadowWarning(const std::string& profile) {
  return absl::StrCat("profile \"", profile,
                      "\" is in shadow mode: every decision is answered ALLOW (HTTP 200), the "
                      "decision enforcement would give is in shadow_decision; set \"mode\": "
                      "\"enforce\" to enforce");
}

absl::StatusOr<std::string> ReadPemFile(const char* what, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("--", what, ": cannot read ", path));
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

int ClampedMillis(absl::Duration d) {
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), INT32_MAX));
}

}  // namespace

void ApplyTransportLimits(const ServerOptions& options, grpc::ServerBuilder& builder) {
  // Every buffer gRPC accounts (read buffers, queued messages) comes out of
  // this quota; under pressure gRPC shrinks flow-control windows, then closes
  // idle connections and cancels streams, instead of growing without end.
  grpc::ResourceQuota quota("hookguard-transport");
  quota.Resize(static_cast<size_t>(options.memory_quota_bytes));
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, options.max_metadata_bytes);
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             ClampedMillis(options.handshake_timeout));
  if (options.max_connection_idle > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                               ClampedMillis(options.max_connection_idle));
  }
  if (options.max_connection_age > absl::ZeroDuration()) {
    // Calls in flight on a closed connection get the drain bound to finish.
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               ClampedMillis(options.max_connection_age));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, ClampedMillis(options.drain));
  }
}

std::vector<std::string> ProfileWarningLines(const ProfileSet& profiles) {
  std::vector<std::string> lines = profiles.warnings();
  for (const std::string& name : profiles.shadow_profiles()) lines.push_back(ShadowWarning(name));
  return lines;
}

Server::Server(ServerOptions options, AuditLog& log)
    : options_(std::move(options)), log_(log), reloader_(options_.config_path, secrets_) {}

Server::~Server() {
  if (running_) Drain("the server object is destroyed");
}

void Server::ReportProfiles(const ProfileSet& profiles) {
  for (const std::string& warning : ProfileWarningLines(profiles)) log_.Server("warning", warning);
  metrics_.SetShadowProfiles(static_cast<int64_t>(profiles.shadow_profiles().size()));
  std::map<std::string, int64_t> missing;
  for (const std::string& name : profiles.names()) missing[name] = 0;
  for (const MissingSecret& secret : profiles.missing_secrets()) {
    ++missing[secret.profile];
    log_.Server("error", absl::StrCat("profile \"", secret.profile, "\": secret \"", secret.key_id,
                                      "\" removed, it verifies nothing now: ", secret.why));
  }
  for (const std::string& name : profiles.profiles_without_secret()) {
    log_.Server("error", absl::StrCat("profile \"", name,
                                      "\" has no secret left: every signature is refused "
                                      "(MISMATCH) until one of its secret files is back"));
  }
  metrics_.SetMissingSecrets(missing);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Server::Credentials() {
  if (options_.tls_cert.empty()) {
    log_.Server("warning",
                "PLAINTEXT: TLS is off and any client that can reach the port may call. "
                "Use --tls_cert/--tls_key/--client_ca outside local development.");
    return grpc::InsecureServerCredentials();
  }
  absl::StatusOr<std::string> key = ReadPemFile("tls_key", options_.tls_key);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> cert = ReadPemFile("tls_cert", options_.tls_cert);
  if (!cert.ok()) return cert.status();
  const bool mutual = !options_.client_ca.empty();
  grpc::SslServerCredentialsOptions ssl(
      mutual ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
             : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  if (mutual) {
    absl::StatusOr<std::string> ca = ReadPemFile("client_ca", options_.client_ca);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  log_.Server("info", mutual ? "mutual TLS on: clients need a certificate from --client_ca"
                             : "TLS on (server certificate only)");
  return grpc::SslServerCredentials(ssl);
}

absl::Status Server::OpenReadReplica(SociStoreOptions options) {
  absl::StatusOr<SociDatabase> database =
      SociDatabase::Parse(options_.db_read, options_.db_timeout);
  if (!database.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--db_read: ", database.status().message()));
  }
  if (database->kind != SociDatabase::Kind::kPostgresql) {
    return absl::InvalidArgumentError(
        "--db_read: a read replica must be PostgreSQL (postgresql://...); SQLite has none");
  }
  options.connection_string = options_.db_read;
  absl::StatusOr<std::unique_ptr<SociOwnershipStore>> replica = SociOwnershipStore::Open(options);
  if (!replica.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--db_read: ", replica.status().message()));
  }
  replica_store_ = *std::move(replica);
  lag_probe_ = std::make_unique<ReplayLagProbe>(*std::move(database));
  ReplicaStoreOptions routing;
  routing.max_lag = options_.db_read_max_lag;
  routing.probe_interval = options_.health_interval;
  routing.on_lookup = [this](LookupTarget target) {
    metrics_.ObserveLookupTarget(LookupTargetName(target));
  };
  routing.on_absence_checked = [this](bool found) { metrics_.ObserveAbsenceConfirmation(found); };
  routing.on_lag = [this](std::optional<absl::Duration> lag, bool in_use) {
    metrics_.SetReplicaLag(lag, in_use);
  };
  routing.on_switch = [this](bool in_use, const std::string& why) {
    log_.Server(in_use ? "info" : "warning", why, /*queue_only=*/true);
  };
  routed_store_ = std::make_unique<ReplicaOwnershipStore>(
      *replica_store_, *store_, [probe = lag_probe_.get()] { return probe->Measure(); },
      std::move(routing));
  log_.Server("info", absl::StrCat("read replica on (--db_read): lookups go there first while "
                                   "its replay lag is within ",
                                   absl::ToInt64Milliseconds(options_.db_read_max_lag),
                                   " ms; absences are confirmed on the primary (--db)"));
  return absl::OkStatus();
}

absl::Status Server::Start() {
  // The configuration and its secrets, read once: any problem stops the
  // start, naming it.
  absl::StatusOr<std::shared_ptr<const ProfileSet>> loaded = reloader_.Load();
  if (!loaded.ok()) return loaded.status();
  ReportProfiles(**loaded);
  const ServerSpec& spec = (*loaded)->spec();
  for (const std::string& line : DescribeOwnership(spec)) log_.Server("info", line);
  if (options_.db.empty()) {
    return absl::InvalidArgumentError(
        "no ownership database: set --db or HOOKGUARD_DB (a SOCI connection string)");
  }

  workers_ = std::make_unique<WorkerPool>(options_.worker_threads);
  SociStoreOptions store_options;
  store_options.connection_string = options_.db;
  // Hand-offs go first: a connection waits for no queued request.
  store_options.handoff = [this](std::function<void()> work) {
    workers_->ScheduleFirst(std::move(work));
  };
  store_options.pool_size = options_.pool_size;
  store_options.max_batch = options_.db_batch_size;
  store_options.on_batch = [this](int size) { metrics_.ObserveDatabaseBatch(size); };
  store_options.query_timeout = options_.db_timeout;
  SetLookupQueries(spec.queries, spec.subject_queries, &store_options);
  store_options.on_unbatched = [this](const std::string& message) {
    log_.Server("warning", message);
  };
  absl::StatusOr<std::unique_ptr<SociOwnershipStore>> store =
      SociOwnershipStore::Open(store_options);
  if (!store.ok()) return store.status();
  store_ = *std::move(store);
  if (!store_->unbatched().empty()) log_.Server("warning", store_->unbatched());
  OwnershipStore* lookups = store_.get();
  if (!options_.db_read.empty()) {
    absl::Status replica = OpenReadReplica(store_options);
    if (!replica.ok()) return replica;
    lookups = routed_store_.get();
  }
  measured_store_ = std::make_unique<InstrumentedOwnershipStore>(*lookups, metrics_);
  // The optional cache sits in front of the measured store, so the database
  // metrics count real queries only.
  cached_store_ = std::make_unique<CachingOwnershipStore>(
      *measured_store_,
      OwnershipCacheOptions{options_.ownership_cache_ttl, options_.ownership_cache_entries});
  if (options_.ownership_cache_ttl > absl::ZeroDuration()) {
    log_.Server("warning", absl::StrCat("ownership cache on: found rows are served for up to ",
                                        absl::ToInt64Milliseconds(options_.ownership_cache_ttl),
                                        " ms without reading the database (",
                                        options_.ownership_cache_entries, " rows at most)"));
  }
  rules_ = std::make_unique<CallEventAuthorizer>(*cached_store_, spec.resolve);
  subject_rules_ = std::make_unique<SubjectAuthorizer>(*cached_store_);
  profiles_ = std::make_unique<ProfileHolder>(*std::move(loaded));
  authorizer_ = std::make_unique<WebhookAuthorizer>(
      *profiles_, *rules_, ids_, WebhookAuthorizerOptions{options_.max_body_bytes},
      subject_rules_.get());
  ServiceOptions service_options;
  service_options.db_timeout = options_.db_timeout;
  service_options.wait_for_locks_until_call_deadline = store_->waits_for_locks();
  service_options.allowed_clients = options_.allowed_clients;
  service_ = std::make_unique<WebhookAuthServiceImpl>(*authorizer_, *workers_, log_, metrics_,
                                                      service_options);

  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = Credentials();
  if (!credentials.ok()) return credentials.status();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen, *credentials, &port_);
  // Room for the largest body plus the rest of the message, so that an
  // oversized body reaches us and gets our RESOURCE_EXHAUSTED with a reason.
  builder.SetMaxReceiveMessageSize(static_cast<int>(options_.max_body_bytes + (1 << 20)));
  ApplyTransportLimits(options_, builder);
  builder.RegisterService(service_.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(
      std::make_unique<UnparseableRequestInterceptorFactory>(log_, metrics_, *workers_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  // Metrics over plain HTTP on their own port: bound before anything runs.
  if (options_.metrics_port != 0) {
    metrics_http_ = std::make_unique<httplib::Server>();
    metrics_http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_.Render(), "text/plain; version=0.0.4");
    });
    if (!metrics_http_->bind_to_port(options_.metrics_host, options_.metrics_port)) {
      return absl::UnavailableError(absl::StrCat("--metrics_listen: cannot listen on ",
                                                 options_.metrics_host, ":",
                                                 options_.metrics_port));
    }
  }

  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
  }
  SetServing(false);  // until the database has answered once
  grpc_server_->GetHealthCheckService()->SetServingStatus(kLivenessName, true);
  running_ = true;

  // Audit lines batched under load wait at most one interval. Its own
  // thread: a write to a stalled stdout blocks it, never the health loop.
  flush_loop_ = std::thread([this] {
    while (!stopping_.WaitForNotificationWithTimeout(options_.health_interval)) log_.Flush();
  });
  health_loop_ = std::thread([this] { HealthLoop(); });
  if (options_.reload_interval > absl::ZeroDuration()) {
    reload_loop_ = std::thread([this] { ReloadLoop(); });
  }
  if (metrics_http_ != nullptr) {
    metrics_loop_ = std::thread([this] { metrics_http_->listen_after_bind(); });
  }
  log_.Server("info",
              absl::StrCat("hookguard-server listening on ", options_.listen, " (port ", port_,
                           "), profiles: ", absl::StrJoin(profiles_->Get()->names(), ","),
                           ", default: ", profiles_->Get()->default_profile()));
  return absl::OkStatus();
}

void Server::SetServing(bool serving) {
  grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
  health->SetServingStatus("", serving);
  health->SetServingStatus(kServiceName, serving);
}

// Health: SERVING only while the database answers and the audit log is not
// stuck. Its lines are only queued: it never waits for the log.
void Server::HealthLoop() {
  bool was_up = false;
  bool was_stalled = false;
  do {
    const absl::Status ping =
        measured_store_->Ping(absl::Now() + std::max(absl::Seconds(1), options_.db_timeout));
    if (stopping_.HasBeenNotified()) break;
    const absl::Duration stalled = log_.StalledFor();
    const bool log_stalled = stalled >= options_.log_stall;
    SetServing(ping.ok() && !log_stalled);
    metrics_.SetDatabaseUp(ping.ok());
    metrics_.SetAuditLogStalled(stalled);
    metrics_.SetWorkQueueDepth(static_cast<int64_t>(workers_->queued()));
    if (ping.ok() != was_up) {
      log_.Server(ping.ok() ? "info" : "error",
                  ping.ok() ? "database answers: SERVING"
                            : absl::StrCat("database unavailable: NOT_SERVING: ", ping.message()),
                  /*queue_only=*/true);
      was_up = ping.ok();
    }
    if (log_stalled != was_stalled) {
      log_.Server(log_stalled ? "error" : "info",
                  log_stalled
                      ? absl::StrCat("audit log write blocked for ", absl::FormatDuration(stalled),
                                     " (stdout not read): NOT_SERVING")
                      : "audit log writes again",
                  /*queue_only=*/true);
      was_stalled = log_stalled;
    }
  } while (!stopping_.WaitForNotificationWithTimeout(options_.health_interval));
}

// Rotation: puts changed configuration and secret files in force, or says
// loudly why not.
void Server::ReloadLoop() {
  while (!stopping_.WaitForNotificationWithTimeout(options_.reload_interval)) {
    absl::StatusOr<std::shared_ptr<const ProfileSet>> next = reloader_.ReloadIfChanged();
    if (!next.ok()) {
      metrics_.ObserveReload(false);
      log_.Server("error", absl::StrCat("reload failed, keeping the previous configuration: ",
                                        next.status().message()));
    } else if (*next != nullptr) {
      ReportProfiles(**next);
      // One swap: the set holds the profiles and the resolution chain, and
      // each request reads it once (WebhookAuthorizer).
      profiles_->Set(*std::move(next));
      metrics_.ObserveReload(true);
      log_.Server("info", "configuration and secrets reloaded");
    }
  }
}

void Server::Drain(absl::string_view why) {
  if (!running_) return;
  running_ = false;
  // NOT_SERVING first (load balancers stop sending), then in-flight calls
  // finish within the bound; new calls are refused.
  log_.Server("info", absl::StrCat(why, ": NOT_SERVING, draining up to ",
                                   absl::ToInt64Seconds(options_.drain), "s"));
  stopping_.Notify();
  grpc_server_->GetHealthCheckService()->Shutdown();
  grpc_server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(options_.drain));
  grpc_server_->Wait();
  health_loop_.join();  // its database ping may still hand work to the workers
  workers_.reset();     // runs what was already scheduled
  flush_loop_.join();
  if (reload_loop_.joinable()) reload_loop_.join();
  if (metrics_loop_.joinable()) {
    metrics_http_->stop();
    metrics_loop_.join();
  }
  log_.Server("info", "stopped");
}

}  // namespace hookguard
