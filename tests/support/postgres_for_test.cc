#include "tests/support/postgres_for_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "tests/support/fixtures.h"

namespace hookguard::testing {
namespace {

// PostgreSQL 15's binaries on Debian, whatever is on PATH.
constexpr char kBinDir[] = "/usr/lib/postgresql/15/bin";

absl::StatusOr<int> FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    close(fd);
    return absl::InternalError("cannot find a free port");
  }
  close(fd);
  return ntohs(address.sin_port);
}

absl::Status Run(const std::string& command) {
  const int rc = std::system(command.c_str());
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("command failed (", rc, "): ", command));
  }
  return absl::OkStatus();
}

}  // namespace

PostgresForTest::PostgresForTest(std::string dir, int port, bool as_postgres_user)
    : dir_(std::move(dir)), port_(port), as_postgres_user_(as_postgres_user) {}

absl::StatusOr<std::unique_ptr<PostgresForTest>> PostgresForTest::Start() {
  if (access(absl::StrCat(kBinDir, "/initdb").c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("PostgreSQL 15 is not installed (no ", kBinDir, "/initdb)"));
  }
  absl::StatusOr<std::string> dir = MakeTempDir("hookguard-pg-");
  if (!dir.ok()) return dir.status();
  absl::StatusOr<int> port = FreePort();
  if (!port.ok()) return port.status();
  const bool as_root = geteuid() == 0;
  if (as_root) {
    passwd* postgres = getpwnam("postgres");
    if (postgres == nullptr) return absl::FailedPreconditionError("no postgres user");
    if (chown(dir->c_str(), postgres->pw_uid, postgres->pw_gid) != 0) {
      return absl::InternalError(absl::StrCat("cannot chown ", *dir));
    }
  }
  std::unique_ptr<PostgresForTest> server(new PostgresForTest(*dir, *port, as_root));
  absl::Status status = server->RunAsServerUser(
      absl::StrCat(kBinDir, "/initdb -D ", *dir, "/data -A trust -U postgres --no-sync > ", *dir,
                   "/initdb.log 2>&1"));
  if (!status.ok()) return status;
  status = server->StartServer();
  if (!status.ok()) return status;
  return server;
}

PostgresForTest::~PostgresForTest() {
  if (running_) {
    RunAsServerUser(
        absl::StrCat(kBinDir, "/pg_ctl -D ", dir_, "/data -m immediate -w stop > /dev/null 2>&1"))
        .IgnoreError();
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::Status PostgresForTest::RunAsServerUser(const std::string& command) const {
  if (!as_postgres_user_) return Run(command);
  // The redirections inside `command` run as postgres too.
  std::string quoted;
  for (char c : command) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return Run(absl::StrCat("runuser -u postgres -- sh -c '", quoted, "'"));
}

absl::Status PostgresForTest::StartServer() {
  absl::Status status = RunAsServerUser(absl::StrCat(
      kBinDir, "/pg_ctl -D ", dir_, "/data -l ", dir_, "/server.log -w -t 60 -o \"-p ", port_,
      " -k ", dir_, " -c listen_addresses=127.0.0.1 -c fsync=off\" start > /dev/null 2>&1"));
  if (!status.ok()) {
    absl::StatusOr<std::string> log = ReadFile(absl::StrCat(dir_, "/server.log"));
    return absl::InternalError(
        absl::StrCat("PostgreSQL did not start: ", log.ok() ? log->substr(0, 2000) : ""));
  }
  running_ = true;
  return absl::OkStatus();
}

absl::Status PostgresForTest::Stop() {
  absl::Status status = RunAsServerUser(
      absl::StrCat(kBinDir, "/pg_ctl -D ", dir_, "/data -m fast -w stop > /dev/null 2>&1"));
  if (status.ok()) running_ = false;
  return status;
}

absl::Status PostgresForTest::Restart() { return StartServer(); }

absl::Status PostgresForTest::RunSqlFile(const std::string& path) {
  return Run(absl::StrCat(kBinDir, "/psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p ", port_,
                          " -U postgres -d postgres -f ", path, " > /dev/null"));
}

absl::Status PostgresForTest::RunSql(const std::string& sql) {
  const std::string path = absl::StrCat(dir_, "/statement.sql");
  {
    std::FILE* file = std::fopen(path.c_str(), "w");
    if (file == nullptr) return absl::InternalError("cannot write the SQL file");
    std::fwrite(sql.data(), 1, sql.size(), file);
    std::fclose(file);
  }
  return RunSqlFile(path);
}

std::string PostgresForTest::ConnectionString() const {
  return absl::StrCat("postgresql://host=127.0.0.1 port=", port_, " dbname=postgres user=postgres");
}

}  // namespace hookguard::testing
