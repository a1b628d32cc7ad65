#include "tools/hookguard/cli_args.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace hookguard::cli {

absl::StatusOr<CliArgs> CliArgs::Parse(const std::vector<std::string>& argv,
                                       const std::set<std::string, std::less<>>& known,
                                       const std::set<std::string, std::less<>>& booleans) {
  CliArgs args;
  for (size_t i = 0; i < argv.size(); ++i) {
    absl::string_view arg = argv[i];
    if (!absl::ConsumePrefix(&arg, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", argv[i], "\" (flags are --name=value)"));
    }
    std::string name, value;
    const size_t eq = arg.find('=');
    if (eq != absl::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
    } else {
      name = std::string(arg);
      if (booleans.count(name) > 0) {
        value = "true";
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
    }
    if (known.count(name) == 0 && booleans.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    args.values_[name].push_back(std::move(value));
  }
  return args;
}

std::string CliArgs::Get(absl::string_view name, absl::string_view fallback) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::string(fallback);
  return it->second.back();
}

std::vector<std::string> CliArgs::GetAll(absl::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

bool CliArgs::Has(absl::string_view name) const { return values_.count(name) > 0; }

}  // namespace hookguard::cli
