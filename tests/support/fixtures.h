// Test-only: the SQL fixtures of tests/fixtures and SQLite databases built
// from them.
#ifndef HOOKGUARD_TESTS_SUPPORT_FIXTURES_H_
#define HOOKGUARD_TESTS_SUPPORT_FIXTURES_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace hookguard::testing {

// Absolute path of tests/fixtures/<name> in the source tree.
std::string FixturePath(absl::string_view name);

// The Django schema, then consistent rows, then inconsistent rows.
std::vector<std::string> DjangoFixtureFiles();

// Reads a whole file.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// A fresh temporary directory (mkdtemp under $TMPDIR or /tmp). The caller
// removes it.
absl::StatusOr<std::string> MakeTempDir(absl::string_view prefix);

// Creates the SQLite database `path` (which must not exist) and runs each
// SQL file in it, in order.
absl::Status CreateSqliteDatabase(const std::string& path,
                                  const std::vector<std::string>& sql_files);

// Runs `sql` in the existing SQLite database `path` (for tests that change
// rows while a store has it open).
absl::Status ExecuteSqlite(const std::string& path, const std::string& sql);

// Takes an exclusive write lock on the SQLite database `path` from a
// connection of its own (as the app's own write transaction does), calls
// `locked`, holds the lock for `hold`, then commits. Blocks the caller.
absl::Status HoldSqliteWriteLock(const std::string& path, absl::Duration hold,
                                 const std::function<void()>& locked);

}  // namespace hookguard::testing

#endif  // HOOKGUARD_TESTS_SUPPORT_FIXTURES_H_
