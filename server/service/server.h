// hookguard-server as an object: the configuration loaded once, the
// ownership store, the gRPC service with health and reflection, and the
// loops beside it (health, audit-log flush, configuration reload, metrics).
#ifndef HOOKGUARD_SERVER_SERVICE_SERVER_H_
#define HOOKGUARD_SERVER_SERVICE_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "server/audit/audit_log.h"
#include "server/audit/decision_id.h"
#include "server/config/profile_set.h"
#include "server/config/secret_source.h"
#include "server/decision/profile_holder.h"
#include "server/decision/webhook_authorizer.h"
#include "server/ownership/caching_ownership_store.h"
#include "server/ownership/ownership_rules.h"
#include "server/ownership/replay_lag_probe.h"
#include "server/ownership/replica_ownership_store.h"
#include "server/ownership/soci_ownership_store.h"
#include "server/ownership/subject_rules.h"
#include "server/service/instrumented_ownership_store.h"
#include "server/service/metrics.h"
#include "server/service/profile_reloader.h"
#include "server/service/webhook_auth_service.h"
#include "server/service/worker_pool.h"

namespace httplib {
class Server;
}

namespace hookguard {

// Everything the flags of hookguard-server set (docs/reference/flags.md lists
// them), already checked one by one (main.cc): Start only checks what needs
// the files and the network.
struct ServerOptions {
  std::string listen = "0.0.0.0:50051";
  std::string db;  // SOCI connection string
  // A PostgreSQL read replica (libpq multi-host allowed): lookups go there
  // first, absences are confirmed on `db`. Empty: none.
  std::string db_read;
  // While the replica's replay lag is above this, lookups go to `db`.
  absl::Duration db_read_max_lag = absl::Seconds(5);
  std::string config_path;  // empty: DefaultConfig()
  int pool_size = 4;        // database connections
  int db_batch_size = 16;   // most lookups per query
  int worker_threads = 6;   // threads that run requests (pool_size + cores)
  absl::Duration db_timeout = absl::Milliseconds(250);
  absl::Duration ownership_cache_ttl;  // zero: no cache
  size_t ownership_cache_entries = 10000;
  size_t max_body_bytes = size_t{4} << 20;
  std::string metrics_host;  // with metrics_port: the /metrics endpoint
  int metrics_port = 0;      // 0: no metrics endpoint
  // TLS: PEM files; all empty: plaintext. client_ca: mutual TLS.
  std::string tls_cert, tls_key, client_ca;
  std::set<std::string, std::less<>> allowed_clients;  // empty: every client
  absl::Duration reload_interval = absl::Seconds(5);   // zero: never
  absl::Duration health_interval = absl::Seconds(1);
  absl::Duration log_stall = absl::Seconds(5);
  absl::Duration drain = absl::Seconds(20);
  // Connections older than this are closed gracefully (GOAWAY), so that
  // clients re-resolve and reach new replicas. Zero: never.
  absl::Duration max_connection_age;
  // What one client can make the server hold over HTTP/2 (gRPC's own limits;
  // docs/reference/flags.md says why each default).
  int max_concurrent_streams = 100;                       // calls open at once, per connection
  int64_t memory_quota_bytes = int64_t{64} << 20;         // gRPC's buffers, all connections
  int max_metadata_bytes = 8192;                          // header list of one call
  absl::Duration max_connection_idle = absl::Minutes(2);  // zero: never closed
  absl::Duration handshake_timeout = absl::Seconds(10);   // TLS and the first SETTINGS
};

// The warnings a start logs about `profiles`, one sentence each: what each
// profile leaves unprotected, and each profile in shadow mode.
std::vector<std::string> ProfileWarningLines(const ProfileSet& profiles);

// Sets `options`' HTTP/2 limits (resource quota, streams, header list,
// handshake, idle and age) on `builder`.
void ApplyTransportLimits(const ServerOptions& options, grpc::ServerBuilder& builder);

// Not thread-safe: one thread calls Start, then Drain. The loops it starts
// are its own.
class Server {
 public:
  // `log` (stdout's audit log) is not owned and must outlive the server.
  Server(ServerOptions options, AuditLog& log);
  ~Server();  // Drain() when started and not drained

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the configuration and its secrets (once: the ownership queries
  // and the profiles come from the same ServerSpec), then (InvalidArgument
  // without options.db) opens the database,
  // starts listening and the loops. Health is NOT_SERVING until the database
  // has answered once. An error names what is wrong (the file, key,
  // variable, path or address); nothing is left running then.
  absl::Status Start();

  // The gRPC port (the real one when `listen` asks for port 0).
  int port() const { return port_; }

  // Health NOT_SERVING, no new calls, calls in flight get `drain` to finish,
  // then every loop stops. `why` goes into the log line.
  void Drain(absl::string_view why);

 private:
  // Logs the warnings, shadow profiles and left-out secrets of a newly
  // loaded set (key id and file, never a value) and sets their gauges.
  void ReportProfiles(const ProfileSet& profiles);
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials();
  // --db_read: the replica's pool (as `options`, the primary's, but for its
  // connection string), its lag probe and the routing store.
  absl::Status OpenReadReplica(SociStoreOptions options);
  void SetServing(bool serving);
  void HealthLoop();
  void ReloadLoop();

  const ServerOptions options_;
  AuditLog& log_;
  Metrics metrics_;
  const EnvAndFileSecretSource secrets_;
  ProfileReloader reloader_;
  DecisionIdGenerator ids_;
  std::unique_ptr<ProfileHolder> profiles_;
  // Before the store: a lookup may hand its connection to a worker.
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<SociOwnershipStore> store_;
  // With --db_read: the replica's pool, its lag probe, and the store that
  // routes between the replica and store_ (the primary).
  std::unique_ptr<SociOwnershipStore> replica_store_;
  std::unique_ptr<ReplayLagProbe> lag_probe_;
  std::unique_ptr<ReplicaOwnershipStore> routed_store_;
  std::unique_ptr<InstrumentedOwnershipStore> measured_store_;
  std::unique_ptr<CachingOwnershipStore> cached_store_;
  std::unique_ptr<CallEventAuthorizer> rules_;
  std::unique_ptr<SubjectAuthorizer> subject_rules_;
  std::unique_ptr<WebhookAuthorizer> authorizer_;
  std::unique_ptr<WebhookAuthServiceImpl> service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<httplib::Server> metrics_http_;
  int port_ = 0;
  bool running_ = false;

  absl::Notification stopping_;
  std::thread flush_loop_;
  std::thread health_loop_;
  std::thread reload_loop_;
  std::thread metrics_loop_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SERVICE_SERVER_H_
