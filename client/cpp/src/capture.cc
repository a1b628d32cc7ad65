#include "hookguard/client/capture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <random>

namespace hookguard {
namespace {

std::string Base64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63],
            kAlphabet[n & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

// A JSON string literal; bytes >= 0x80 are read as Latin-1 (as HTTP header
// bytes are), so the file is always valid UTF-8.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string Utc(std::time_t t, const char* format) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string RandomHex(int bytes) {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < bytes; ++i) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned>(rd() & 0xff));
    out += buf;
  }
  return out;
}

bool SafeId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (!std::isalnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace

bool ShouldCapture(const Verdict& verdict) {
  return verdict.decision == v1::DECISION_DENY || verdict.ShadowDeny();
}

std::string CaptureRecord(const WebhookRequest& request, const Verdict& verdict,
                          const std::string& url, std::time_t now) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string key = name;
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto [it, inserted] = headers.emplace(key, value);
    if (!inserted) it->second += ", " + value;
  }
  std::string header_json;
  for (const auto& [name, value] : headers) {
    header_json += (header_json.empty() ? "" : ", ") + Quote(name) + ": " + Quote(value);
  }
  v1::DenyReason reason =
      verdict.decision == v1::DECISION_DENY ? verdict.reason : verdict.shadow_reason;
  return std::string("{\n") + " \"format\": " + Quote(kCaptureFormat) + ",\n" +
         " \"captured_at\": " + Quote(Utc(now, "%Y-%m-%dT%H:%M:%SZ")) + ",\n" +
         " \"profile\": " + Quote(request.profile) + ",\n" +
         " \"method\": " + Quote(request.method) + ",\n" + " \"url\": " + Quote(url) + ",\n" +
         " \"headers\": {" + header_json + "},\n" +
         " \"body_base64\": " + Quote(Base64(request.body)) + ",\n" +
         " \"expected_owner_id\": " + Quote(request.expected_owner_id) + ",\n" +
         " \"decision\": " + Quote(v1::Decision_Name(verdict.decision)) + ",\n" +
         " \"shadow_decision\": " + Quote(v1::Decision_Name(verdict.shadow_decision)) + ",\n" +
         " \"reason\": " + Quote(v1::DenyReason_Name(reason)) + ",\n" +
         " \"http_status\": " + std::to_string(verdict.http_status) + ",\n" +
         " \"decision_id\": " + Quote(verdict.decision_id) + "\n}\n";
}

bool WriteCapture(const std::string& dir, const WebhookRequest& request, const Verdict& verdict,
                  const std::string& url, std::string* path, std::string* error) {
  std::time_t now = std::time(nullptr);
  std::string text = CaptureRecord(request, verdict, url, now);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "capture directory " + dir + ": " + std::strerror(errno);
    return false;
  }
  std::string id = SafeId(verdict.decision_id) ? verdict.decision_id : RandomHex(8);
  std::string base = dir + "/" + Utc(now, "%Y%m%dT%H%M%SZ") + "-" + id;
  std::string file = base + ".json";
  struct stat st;
  if (::lstat(file.c_str(), &st) == 0) file = base + "-" + RandomHex(4) + ".json";
  std::string tmp = dir + "/.capture-" + RandomHex(8) + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "capture " + tmp + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::fchmod(fd, 0600) == 0;
  for (size_t done = 0; ok && done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int saved = errno;
  ok = (::close(fd) == 0) && ok;
  if (ok && ::rename(tmp.c_str(), file.c_str()) != 0) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    *error = "capture " + file + ": " + std::strerror(saved);
    return false;
  }
  *path = file;
  return true;
}

}  // namespace hookguard
