// Test-only: a throw-away PostgreSQL server (initdb into a temporary
// directory, pg_ctl on a free port on 127.0.0.1, trust authentication).
// When running as root the server runs as the `postgres` user. Not
// thread-safe; one object per test fixture.
#ifndef HOOKGUARD_TESTS_SUPPORT_POSTGRES_FOR_TEST_H_
#define HOOKGUARD_TESTS_SUPPORT_POSTGRES_FOR_TEST_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hookguard::testing {

class PostgresForTest {
 public:
  // initdb and start. Fails (with the tail of the server log) if PostgreSQL's
  // binaries are missing or it does not start within 60 s.
  static absl::StatusOr<std::unique_ptr<PostgresForTest>> Start();

  // Stops the server (immediate mode) and removes its directory.
  ~PostgresForTest();

  PostgresForTest(const PostgresForTest&) = delete;
  PostgresForTest& operator=(const PostgresForTest&) = delete;

  // Stops the server (fast mode: open sessions are terminated).
  absl::Status Stop();
  // Starts it again on the same port and data directory.
  absl::Status Restart();

  // Runs a SQL file / statements with psql in database "postgres".
  absl::Status RunSqlFile(const std::string& path);
  absl::Status RunSql(const std::string& sql);

  // "postgresql://host=127.0.0.1 port=N dbname=postgres user=postgres".
  std::string ConnectionString() const;
  int port() const { return port_; }

 private:
  PostgresForTest(std::string dir, int port, bool as_postgres_user);
  absl::Status RunAsServerUser(const std::string& command) const;
  absl::Status StartServer();

  const std::string dir_;  // holds data/, the socket and server.log
  const int port_;
  const bool as_postgres_user_;
  bool running_ = false;
};

}  // namespace hookguard::testing

#endif  // HOOKGUARD_TESTS_SUPPORT_POSTGRES_FOR_TEST_H_
