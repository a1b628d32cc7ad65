// Command-line arguments of the `hookguard` CLI: `--name=value` (or
// `--name value`), with repeatable flags such as --header.
#ifndef HOOKGUARD_TOOLS_HOOKGUARD_CLI_ARGS_H_
#define HOOKGUARD_TOOLS_HOOKGUARD_CLI_ARGS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hookguard::cli {

class CliArgs {
 public:
  // Parses argv after the subcommand. Only names in `known` are accepted: a
  // typo is an error, never silently ignored. Flags in `booleans` take no
  // value (`--insecure`).
  static absl::StatusOr<CliArgs> Parse(const std::vector<std::string>& argv,
                                       const std::set<std::string, std::less<>>& known,
                                       const std::set<std::string, std::less<>>& booleans = {});

  // The last value of `name`, or `fallback`.
  std::string Get(absl::string_view name, absl::string_view fallback = "") const;
  // Every value of a repeatable flag, in order.
  std::vector<std::string> GetAll(absl::string_view name) const;
  bool Has(absl::string_view name) const;

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
};

}  // namespace hookguard::cli

#endif  // HOOKGUARD_TOOLS_HOOKGUARD_CLI_ARGS_H_
