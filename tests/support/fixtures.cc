#include "tests/support/fixtures.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace hookguard::testing {

std::string FixturePath(absl::string_view name) {
  return absl::StrCat(HOOKGUARD_SOURCE_DIR, "/tests/fixtures/", name);
}

std::vector<std::string> DjangoFixtureFiles() {
  return {FixturePath("django_schema.sql"), FixturePath("consistent.sql"),
          FixturePath("inconsistent.sql")};
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::string> MakeTempDir(absl::string_view prefix) {
  const char* tmp = getenv("TMPDIR");
  std::string pattern = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/", prefix, "XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp failed for ", pattern));
  }
  return pattern;
}

namespace {

absl::Status Exec(sqlite3* db, const std::string& sql, const std::string& what) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    absl::Status status =
        absl::InternalError(absl::StrCat(what, ": ", error != nullptr ? error : "?"));
    sqlite3_free(error);
    return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CreateSqliteDatabase(const std::string& path,
                                  const std::vector<std::string>& sql_files) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE,
                      nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat("cannot create ", path));
  }
  absl::Status status;
  for (const std::string& file : sql_files) {
    absl::StatusOr<std::string> sql = ReadFile(file);
    if (!sql.ok()) {
      status = sql.status();
      break;
    }
    status = Exec(db, *sql, file);
    if (!status.ok()) break;
  }
  sqlite3_close(db);
  return status;
}

absl::Status ExecuteSqlite(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat("cannot open ", path));
  }
  absl::Status status = Exec(db, sql, "sql");
  sqlite3_close(db);
  return status;
}

absl::Status HoldSqliteWriteLock(const std::string& path, absl::Duration hold,
                                 const std::function<void()>& locked) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat("cannot open ", path));
  }
  absl::Status status = Exec(db, "BEGIN EXCLUSIVE", "lock");
  if (status.ok()) {
    locked();
    absl::SleepFor(hold);
    status = Exec(db, "COMMIT", "unlock");
  }
  sqlite3_close(db);
  return status;
}

}  // namespace hookguard::testing
