#include "server/ownership/soci_session.h"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <exception>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace hookguard {
namespace {

bool FileIsReadable(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), R_OK) == 0;
}

// Reads the value of `key=` in SOCI's SQLite parameters ("db=/x timeout=2";
// values may be quoted with ' or "). A string without '=' is the path itself.
std::optional<std::string> SqliteParam(absl::string_view params, absl::string_view key) {
  if (!absl::StrContains(params, '=')) {
    if (key == "db") return std::string(absl::StripAsciiWhitespace(params));
    return std::nullopt;
  }
  size_t i = 0;
  while (i < params.size()) {
    while (i < params.size() && params[i] == ' ') ++i;
    size_t eq = params.find('=', i);
    if (eq == absl::string_view::npos) return std::nullopt;
    absl::string_view name = absl::StripAsciiWhitespace(params.substr(i, eq - i));
    size_t start = eq + 1;
    std::string value;
    if (start < params.size() && (params[start] == '\'' || params[start] == '"')) {
      size_t end = params.find(params[start], start + 1);
      if (end == absl::string_view::npos) return std::nullopt;
      value = std::string(params.substr(start + 1, end - start - 1));
      i = end + 1;
    } else {
      size_t end = params.find(' ', start);
      if (end == absl::string_view::npos) end = params.size();
      value = std::string(params.substr(start, end - start));
      i = end;
    }
    if (name == key) return value;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<SociDatabase> SociDatabase::Parse(absl::string_view connection_string,
                                                 absl::Duration query_timeout) {
  SociDatabase db;
  db.query_timeout = query_timeout;
  const std::string full(connection_string);
  const size_t scheme_end = full.find("://");
  if (scheme_end == std::string::npos) {
    return absl::InvalidArgumentError(
        "database connection string must start with sqlite3:// or postgresql://");
  }
  const std::string scheme = full.substr(0, scheme_end);
  const std::string params = full.substr(scheme_end + 3);
  if (scheme == "sqlite3") {
    db.kind = Kind::kSqlite;
    std::optional<std::string> path = SqliteParam(params, "db");
    if (!path.has_value() || path->empty()) {
      return absl::InvalidArgumentError("sqlite3:// connection string has no db=PATH");
    }
    if (*path == ":memory:" || absl::StartsWith(*path, "file:")) {
      return absl::InvalidArgumentError("sqlite3:// needs the path of an existing database file");
    }
    if (!FileIsReadable(*path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("SQLite database file does not exist or is not readable: ", *path));
    }
    db.sqlite_path = *path;
    // Read-only: SQLITE_OPEN_READONLY, which also never creates a file.
    db.params = absl::StrContains(params, '=') ? params : absl::StrCat("db=", params);
    if (!SqliteParam(db.params, "readonly").has_value()) {
      absl::StrAppend(&db.params, " readonly=1");
    }
    return db;
  }
  if (scheme == "postgresql") {
    db.kind = Kind::kPostgresql;
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(params.c_str(), &error);
    if (parsed == nullptr) {
      // libpq's message names the bad syntax, not the values.
      std::string why = error != nullptr ? error : "out of memory";
      PQfreemem(error);
      return absl::InvalidArgumentError(
          absl::StrCat("cannot parse the postgresql:// connection string (libpq keyword form "
                       "host=.. port=.. dbname=.. user=..): ",
                       absl::StripAsciiWhitespace(why)));
    }
    bool has_connect_timeout = false;
    std::set<std::string> set;
    for (PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
      if (option->val == nullptr) continue;
      set.insert(option->keyword);
      if (std::string(option->keyword) == "password") db.password = option->val;
      if (std::string(option->keyword) == "connect_timeout") has_connect_timeout = true;
    }
    PQconninfoFree(parsed);
    db.params = params;
    for (const auto& [keyword, value] : kPostgresqlKeepalives) {
      if (set.count(keyword) == 0) absl::StrAppend(&db.params, " ", keyword, "=", value);
    }
    if (!has_connect_timeout) {
      // libpq's unit is whole seconds, and it treats 1 as 2.
      const int seconds =
          std::max<int>(2, static_cast<int>(std::ceil(absl::ToDoubleSeconds(query_timeout))));
      absl::StrAppend(&db.params, " connect_timeout=", seconds);
    }
    return db;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown database backend '", scheme, "': use sqlite3:// or postgresql://"));
}

const soci::backend_factory& SociDatabase::factory() const {
  if (kind == Kind::kSqlite) return *soci::factory_sqlite3();
  return *soci::factory_postgresql();
}

std::string SociDatabase::Where() const {
  return kind == Kind::kSqlite ? absl::StrCat("SQLite database ", sqlite_path)
                               : std::string("PostgreSQL");
}

std::string SociDatabase::Scrub(absl::string_view message) const {
  std::string text(message);
  if (!password.empty()) text = absl::StrReplaceAll(text, {{password, "***"}});
  // Driver messages end with newlines; keep one line.
  absl::StrReplaceAll({{"\n", " "}}, &text);
  return std::string(absl::StripAsciiWhitespace(text));
}

void SociDatabase::SetLockWait(soci::session& session, absl::Duration wait) const {
  if (kind != Kind::kSqlite) return;
  auto* backend = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
  if (backend == nullptr || backend->conn_ == nullptr) return;
  const int64_t ms = std::clamp<int64_t>(absl::ToInt64Milliseconds(wait), 1, INT32_MAX);
  sqlite_api::sqlite3_busy_timeout(backend->conn_, static_cast<int>(ms));
}

bool SociDatabase::IsLockTimeout(const std::exception& error) const {
  const auto* sqlite = dynamic_cast<const soci::sqlite3_soci_error*>(&error);
  if (sqlite == nullptr) return false;
  const int primary = sqlite->result() & 0xff;  // extended codes keep the primary in the low byte
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

SociDatabase::ErrorKind SociDatabase::Classify(const std::exception& error) const {
  if (IsLockTimeout(error)) return ErrorKind::kLockTimeout;
  if (const auto* sqlite = dynamic_cast<const soci::sqlite3_soci_error*>(&error)) {
    return (sqlite->result() & 0xff) == SQLITE_INTERRUPT ? ErrorKind::kOther : ErrorKind::kData;
  }
  const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&error);
  if (pg == nullptr) return ErrorKind::kOther;
  const std::string state = pg->sqlstate();
  if (!absl::StartsWith(state, "22")) return ErrorKind::kOther;
  // PostgreSQL names the parameter it was binding in the error's context
  // ("unnamed portal parameter $1"): the id itself was refused, not a row.
  if ((state == "22P02" || state == "22021" || state == "22P05") &&
      absl::StrContains(error.what(), "parameter $")) {
    return ErrorKind::kIdNotHoldable;
  }
  return ErrorKind::kData;
}

void SociDatabase::Interrupt(soci::session& session) const {
  if (kind == Kind::kSqlite) {
    auto* backend = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
    if (backend != nullptr && backend->conn_ != nullptr)
      sqlite_api::sqlite3_interrupt(backend->conn_);
    return;
  }
  auto* backend = static_cast<soci::postgresql_session_backend*>(session.get_backend());
  if (backend == nullptr || backend->conn_ == nullptr) return;
  const int socket = PQsocket(backend->conn_);
  if (socket >= 0) ::shutdown(socket, SHUT_RDWR);
}

bool SociDatabase::Usable(soci::session& session) const {
  if (kind == Kind::kSqlite) return true;
  auto* backend = static_cast<soci::postgresql_session_backend*>(session.get_backend());
  return backend != nullptr && backend->conn_ != nullptr &&
         PQstatus(backend->conn_) == CONNECTION_OK &&
         PQtransactionStatus(backend->conn_) == PQTRANS_IDLE;
}

absl::StatusOr<std::unique_ptr<soci::session>> SociDatabase::Open() const {
  try {
    auto session = std::make_unique<soci::session>();
    session->open(factory(), params);
    SetLockWait(*session, query_timeout);
    if (kind == Kind::kPostgresql) {
      const int64_t ms = absl::ToInt64Milliseconds(query_timeout);
      *session << absl::StrCat("SET statement_timeout = ", ms > 0 ? ms : 1);
    }
    return session;
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to ", Where(), ": ", Scrub(e.what())));
  }
}

}  // namespace hookguard
