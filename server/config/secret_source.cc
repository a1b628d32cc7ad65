#include "server/config/secret_source.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace hookguard {
namespace {

absl::Status FileError(int err, const std::string& path) {
  const std::string message =
      absl::StrCat("cannot read secret file ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES) return absl::PermissionDeniedError(message);
  return absl::FailedPreconditionError(message);
}

// One line ending, as `echo`, editors and `kubectl create secret --from-file`
// leave it; nothing else is touched.
void StripOneLineEnding(std::string* text) {
  if (absl::EndsWith(*text, "\r\n")) {
    text->resize(text->size() - 2);
  } else if (absl::EndsWith(*text, "\n")) {
    text->resize(text->size() - 1);
  }
}

// An empty secret, or one of whitespace only (a file of blank lines, a
// variable of spaces), is refused alike: anyone can compute its MAC.
// `what` names the file or the variable, never the value.
absl::Status RefuseBlank(absl::string_view text, absl::string_view what) {
  if (text.empty()) return absl::FailedPreconditionError(absl::StrCat(what, " is empty"));
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " holds only whitespace (refused like an empty secret)"));
  }
  return absl::OkStatus();
}

struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  std::unique_ptr<std::FILE, FileClose> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return FileError(errno, path);
  std::string text(EnvAndFileSecretSource::kMaxSecretFileBytes + 1, '\0');
  const size_t read = std::fread(text.data(), 1, text.size(), file.get());
  if (std::ferror(file.get())) return FileError(errno, path);
  if (read > EnvAndFileSecretSource::kMaxSecretFileBytes) {
    return absl::FailedPreconditionError(absl::StrCat("secret file ", path, " is larger than ",
                                                      EnvAndFileSecretSource::kMaxSecretFileBytes,
                                                      " bytes"));
  }
  text.resize(read);
  StripOneLineEnding(&text);
  if (absl::Status blank = RefuseBlank(text, absl::StrCat("secret file ", path)); !blank.ok()) {
    return blank;
  }
  return text;
}

}  // namespace

absl::StatusOr<std::string> EnvAndFileSecretSource::Read(const config::v1::Secret& secret) const {
  if (secret.env().empty() == secret.file().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("secret \"", secret.key_id(), "\": set exactly one of env and file"));
  }
  if (!secret.file().empty()) return ReadSecretFile(secret.file());
  // getenv is safe here as long as nothing calls setenv concurrently; the
  // server does not.
  const char* value = std::getenv(secret.env().c_str());
  if (value == nullptr) {
    return absl::NotFoundError(absl::StrCat("environment variable ", secret.env(), " is not set"));
  }
  std::string text(value);
  StripOneLineEnding(&text);
  if (absl::Status blank = RefuseBlank(text, absl::StrCat("environment variable ", secret.env()));
      !blank.ok()) {
    return blank;
  }
  return text;
}

}  // namespace hookguard
