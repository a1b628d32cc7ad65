#include "server/payload/call_event_parser.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "simdjson.h"

namespace hookguard {
namespace {

namespace od = simdjson::ondemand;

// A thread's parser and the padded copy of the body it reads. The buffer is
// kept between calls (it only grows) unless it grew past kKeepBufferBytes.
struct ThreadParser {
  od::parser parser;
  std::string buffer;
};
constexpr size_t kKeepBufferBytes = 4 << 20;

absl::Status Malformed(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("malformed event: ", why));
}

// Never quotes the body: only the kind of error.
absl::Status FromSimdjson(simdjson::error_code error) {
  switch (error) {
    case simdjson::UTF8_ERROR:
      return Malformed("body is not valid UTF-8");
    case simdjson::EMPTY:
      return Malformed("body is empty");
    case simdjson::UNESCAPED_CHARS:
      return Malformed("unescaped control character in a string");
    case simdjson::CAPACITY:
    case simdjson::MEMALLOC:
      return absl::ResourceExhaustedError("body too large to parse");
    default:
      return Malformed("body is not valid JSON");
  }
}

#define HG_JSON_TRY(expr)                                                         \
  do {                                                                            \
    simdjson::error_code hg_json_error_ = (expr);                                 \
    if (hg_json_error_ != simdjson::SUCCESS) return FromSimdjson(hg_json_error_); \
  } while (false)

#define HG_RETURN_IF_ERROR(expr)             \
  do {                                       \
    absl::Status hg_status_ = (expr);        \
    if (!hg_status_.ok()) return hg_status_; \
  } while (false)

// Folds `key` the way the most lenient JSON reader our users' web tiers use
// matches keys (Go's encoding/json: ASCII case, plus the Kelvin sign U+212A
// as 'k' and the long s U+017F as 's', which Unicode case folding maps onto
// ASCII letters).
std::string FoldKey(std::string_view key) {
  std::string folded;
  folded.reserve(key.size());
  for (size_t i = 0; i < key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (c == 0xE2 && key.substr(i, 3) == "\xE2\x84\xAA") {
      folded.push_back('k');
      i += 2;
    } else if (c == 0xC5 && key.substr(i, 2) == "\xC5\xBF") {
      folded.push_back('s');
      i += 1;
    } else if (c >= 'A' && c <= 'Z') {
      folded.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      folded.push_back(static_cast<char>(c));
    }
  }
  return folded;
}

// The keys of one object that are read, exactly as they are spelled.
using ReadKeys = absl::Span<const std::string_view>;

bool IsOneOf(std::string_view key, ReadKeys keys) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// Rejects, in an object whose fields are read: a key seen before (compared
// unescaped), and a key that is not one of `read` but folds to one of them
// ("Call", "ID", "aſſistantId"): a web tier whose reader matches keys
// without case would take it where we took the exact one.
class KeySet {
 public:
  explicit KeySet(ReadKeys read) : read_(read) {}

  absl::Status Add(std::string_view unescaped_key) {
    if (!keys_.insert(absl::string_view(unescaped_key.data(), unescaped_key.size())).second) {
      return Malformed("duplicate key in an object that is read");
    }
    if (IsOneOf(unescaped_key, read_) || !MayFold(unescaped_key)) return absl::OkStatus();
    const std::string folded = FoldKey(unescaped_key);
    for (std::string_view key : read_) {
      if (folded == FoldKey(key)) {
        return Malformed(absl::StrCat("a key differs only in case from \"",
                                      absl::string_view(key.data(), key.size()), "\""));
      }
    }
    return absl::OkStatus();
  }

 private:
  // Cheap filter: a key that folds to a read key is no longer than the
  // longest of them plus the bytes the two multi-byte letters add.
  bool MayFold(std::string_view key) const {
    size_t longest = 0;
    for (std::string_view k : read_) longest = std::max(longest, k.size());
    return key.size() <= 3 * longest;
  }

  ReadKeys read_;
  // Views into the parser's string buffer, valid for the whole parse.
  absl::flat_hash_set<absl::string_view> keys_;
};

// Checks a number token against RFC 8259's grammar without converting it:
// a number hookguard does not read may be of any size (1e400,
// 18446744073709551616) and still be valid JSON. `token` may carry trailing
// whitespace.
bool IsJsonNumber(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' ||
                            token.back() == '\r')) {
    token.remove_suffix(1);
  }
  size_t i = 0;
  const auto digits = [&] {
    const size_t start = i;
    while (i < token.size() && token[i] >= '0' && token[i] <= '9') ++i;
    return i - start;
  };
  if (i < token.size() && token[i] == '-') ++i;
  if (i < token.size() && token[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (i < token.size() && token[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    if (i < token.size() && (token[i] == '+' || token[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == token.size();
}

// Reads an optional id: absent, null and "" all mean "not set".
absl::Status ReadId(od::value value, absl::string_view name, std::string* out) {
  od::json_type type;
  HG_JSON_TRY(value.type().get(type));
  if (type == od::json_type::null) {
    bool is_null = false;
    HG_JSON_TRY(value.is_null().get(is_null));
    if (!is_null) return Malformed("body is not valid JSON");
    out->clear();
    return absl::OkStatus();
  }
  if (type != od::json_type::string) {
    return Malformed(absl::StrCat(name, " is not a string"));
  }
  std::string_view text;
  HG_JSON_TRY(value.get_string().get(text));
  HG_RETURN_IF_ERROR(CheckEventId(name, absl::string_view(text.data(), text.size())));
  out->assign(text.data(), text.size());
  return absl::OkStatus();
}

// The fields one candidate event object (the root or root.message) holds.
// A type error in either candidate rejects the body (fail closed), even in
// the candidate that is not used.
struct EventFields {
  bool has_call = false;
  v1::CallEvent event;
  std::string phone_number_object_id;  // phoneNumber.id
  // The `chat` and `session` objects of events that carry no call: their
  // assistantId and orgId.
  bool has_chat_or_session = false;
  std::string chat_assistant_id, chat_org_id, chat_phone_number_id;
  std::string session_assistant_id, session_org_id, session_phone_number_id;
  // A key of the flat shape (call, phoneNumber, chat, session, type) was
  // seen: at the root beside a `message` object, that is two shapes at once.
  bool has_flat_key = false;
};

// The keys read in an event object (root or root.message) and in its parts.
constexpr std::string_view kRootKeys[] = {"message",     "type", "call",
                                          "phoneNumber", "chat", "session"};
constexpr std::string_view kMessageKeys[] = {"type", "call", "phoneNumber", "chat", "session"};

class Walker {
 public:
  // Validates any value we do not read, so that the document as a whole is
  // strict JSON within the depth limit. `depth` is the depth of the
  // container holding `value`.
  absl::Status Validate(od::value value, int depth) {
    od::json_type type;
    HG_JSON_TRY(value.type().get(type));
    switch (type) {
      case od::json_type::object: {
        od::object object;
        HG_RETURN_IF_ERROR(OpenObject(value, depth, &object));
        for (auto field : object) {
          std::string_view key;
          HG_JSON_TRY(field.unescaped_key().get(key));
          od::value child;
          HG_JSON_TRY(field.value().get(child));
          HG_RETURN_IF_ERROR(Validate(child, depth + 1));
        }
        return absl::OkStatus();
      }
      case od::json_type::array: {
        if (depth + 1 > kMaxJsonDepth) return TooDeep();
        od::array array;
        HG_JSON_TRY(value.get_array().get(array));
        for (auto element : array) {
          od::value child;
          HG_JSON_TRY(element.get(child));
          HG_RETURN_IF_ERROR(Validate(child, depth + 1));
        }
        return absl::OkStatus();
      }
      case od::json_type::string: {
        std::string_view text;
        HG_JSON_TRY(value.get_string().get(text));
        return absl::OkStatus();
      }
      case od::json_type::number: {
        if (!IsJsonNumber(value.raw_json_token())) return Malformed("body is not valid JSON");
        return absl::OkStatus();
      }
      case od::json_type::boolean: {
        bool b;
        HG_JSON_TRY(value.get_bool().get(b));
        return absl::OkStatus();
      }
      case od::json_type::null: {
        bool is_null = false;
        HG_JSON_TRY(value.is_null().get(is_null));
        if (!is_null) return Malformed("body is not valid JSON");
        return absl::OkStatus();
      }
    }
    return Malformed("body is not valid JSON");
  }

  // Walks an object that may be the event (the root at depth 1, or
  // root.message at depth 2). At the root, a "message" object is walked into
  // `message`; `*has_message` is set for any non-null "message".
  absl::Status WalkEvent(od::object object, int depth, EventFields* fields, EventFields* message,
                         bool* has_message) {
    KeySet keys(message != nullptr ? ReadKeys(kRootKeys) : ReadKeys(kMessageKeys));
    for (auto field : object) {
      std::string_view key;
      HG_JSON_TRY(field.unescaped_key().get(key));
      HG_RETURN_IF_ERROR(keys.Add(key));
      od::value value;
      HG_JSON_TRY(field.value().get(value));
      if (key != "message" && IsOneOf(key, kMessageKeys)) fields->has_flat_key = true;
      if (message != nullptr && key == "message") {
        od::json_type type;
        HG_JSON_TRY(value.type().get(type));
        // A message that is not an object still makes the body ambiguous
        // beside flat fields (a reader may take it for the event): only
        // null counts as absent.
        *has_message = *has_message || type != od::json_type::null;
        if (type == od::json_type::object) {
          od::object inner;
          HG_RETURN_IF_ERROR(OpenObject(value, depth, &inner));
          HG_RETURN_IF_ERROR(WalkEvent(inner, depth + 1, message, nullptr, nullptr));
          continue;
        }
      } else if (key == "type") {
        HG_RETURN_IF_ERROR(ReadId(value, "type", fields->event.mutable_type()));
        continue;
      } else if (key == "call") {
        od::json_type type;
        HG_JSON_TRY(value.type().get(type));
        if (type == od::json_type::object) {
          fields->has_call = true;
          od::object call;
          HG_RETURN_IF_ERROR(OpenObject(value, depth, &call));
          HG_RETURN_IF_ERROR(WalkCall(call, depth + 1, fields));
          continue;
        }
        // null is absent, as for phoneNumber, chat and session (a chat
        // event may say "call": null).
        if (type != od::json_type::null) return Malformed("call is not an object");
      } else if (key == "phoneNumber") {
        od::json_type type;
        HG_JSON_TRY(value.type().get(type));
        if (type == od::json_type::object) {
          od::object phone;
          HG_RETURN_IF_ERROR(OpenObject(value, depth, &phone));
          HG_RETURN_IF_ERROR(WalkPhoneNumber(phone, depth + 1, fields));
          continue;
        }
        if (type != od::json_type::null) return Malformed("phoneNumber is not an object");
      } else if (key == "chat" || key == "session") {
        const bool chat = key == "chat";
        od::json_type type;
        HG_JSON_TRY(value.type().get(type));
        if (type == od::json_type::object) {
          od::object inner;
          HG_RETURN_IF_ERROR(OpenObject(value, depth, &inner));
          fields->has_chat_or_session = true;
          HG_RETURN_IF_ERROR(
              WalkIds(inner, depth + 1, {"id", "assistantId", "orgId", "phoneNumberId"},
                      {{"assistantId", chat ? "chat.assistantId" : "session.assistantId",
                        chat ? &fields->chat_assistant_id : &fields->session_assistant_id},
                       {"orgId", chat ? "chat.orgId" : "session.orgId",
                        chat ? &fields->chat_org_id : &fields->session_org_id},
                       {"phoneNumberId", chat ? "chat.phoneNumberId" : "session.phoneNumberId",
                        chat ? &fields->chat_phone_number_id : &fields->session_phone_number_id}}));
          continue;
        }
        if (type != od::json_type::null) {
          return Malformed(absl::StrCat(chat ? "chat" : "session", " is not an object"));
        }
      }
      HG_RETURN_IF_ERROR(Validate(value, depth));
    }
    return absl::OkStatus();
  }

 private:
  static absl::Status TooDeep() {
    return Malformed(absl::StrCat("nested deeper than ", kMaxJsonDepth, " levels"));
  }

  // Opens `value` as the object one level below `depth`, within the depth
  // limit.
  static absl::Status OpenObject(od::value& value, int depth, od::object* object) {
    if (depth + 1 > kMaxJsonDepth) return TooDeep();
    HG_JSON_TRY(value.get_object().get(*object));
    return absl::OkStatus();
  }

  // One id field of an object: its JSON key, its name in errors, where it goes.
  struct IdField {
    std::string_view key;
    absl::string_view name;
    std::string* out;
  };

  // Reads the `ids` of `object` and validates every other value; a duplicate
  // key anywhere in the object is malformed.
  absl::Status WalkIds(od::object object, int depth, ReadKeys read,
                       std::initializer_list<IdField> ids) {
    KeySet keys(read);
    for (auto field : object) {
      std::string_view key;
      HG_JSON_TRY(field.unescaped_key().get(key));
      HG_RETURN_IF_ERROR(keys.Add(key));
      od::value value;
      HG_JSON_TRY(field.value().get(value));
      const IdField* id = nullptr;
      for (const IdField& candidate : ids) {
        if (candidate.key == key) id = &candidate;
      }
      if (id != nullptr) {
        HG_RETURN_IF_ERROR(ReadId(value, id->name, id->out));
      } else {
        HG_RETURN_IF_ERROR(Validate(value, depth));
      }
    }
    return absl::OkStatus();
  }

  absl::Status WalkCall(od::object call, int depth, EventFields* fields) {
    v1::CallEvent& event = fields->event;
    return WalkIds(call, depth, {"id", "assistantId", "phoneNumberId", "orgId"},
                   {{"id", "call.id", event.mutable_call_id()},
                    {"assistantId", "call.assistantId", event.mutable_assistant_id()},
                    {"phoneNumberId", "call.phoneNumberId", event.mutable_phone_number_id()},
                    {"orgId", "call.orgId", event.mutable_org_id()}});
  }

  absl::Status WalkPhoneNumber(od::object phone, int depth, EventFields* fields) {
    return WalkIds(phone, depth, {"id"},
                   {{"id", "phoneNumber.id", &fields->phone_number_object_id}});
  }
};

// Merges one more source of an id into `*into`: empty adds nothing, two
// different non-empty values make the event ambiguous.
absl::Status MergeId(const std::string& from, absl::string_view what, std::string* into) {
  if (from.empty()) return absl::OkStatus();
  if (into->empty()) {
    *into = from;
  } else if (*into != from) {
    return Malformed(what);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::CallEvent> Finish(EventFields& fields) {
  v1::CallEvent& event = fields.event;
  if (fields.has_call) {
    if (event.call_id().empty()) return Malformed("no call.id");
  } else if (!fields.has_chat_or_session) {
    return Malformed("no call object (nor a chat or session object)");
  }
  // Every other place an id is named must agree with the one already read.
  const struct {
    const std::string& from;
    const char* conflict;
    std::string* into;
  } merges[] = {
      {fields.phone_number_object_id, "call.phoneNumberId and phoneNumber.id differ",
       event.mutable_phone_number_id()},
      {fields.chat_phone_number_id, "chat.phoneNumberId differs from another phone number id",
       event.mutable_phone_number_id()},
      {fields.session_phone_number_id, "session.phoneNumberId differs from another phone number id",
       event.mutable_phone_number_id()},
      {fields.chat_assistant_id, "chat.assistantId differs from the call's assistant",
       event.mutable_assistant_id()},
      {fields.session_assistant_id, "session.assistantId differs from another assistant id",
       event.mutable_assistant_id()},
      {fields.chat_org_id, "chat.orgId differs from the call's", event.mutable_org_id()},
      {fields.session_org_id, "session.orgId differs from another org id", event.mutable_org_id()},
  };
  for (const auto& m : merges) HG_RETURN_IF_ERROR(MergeId(m.from, m.conflict, m.into));
  if (event.call_id().empty() && event.assistant_id().empty()) {
    return Malformed("no call.id and no assistantId in the chat or session object");
  }
  return std::move(event);
}

// Gives the thread's buffer back when a large body grew it past
// kKeepBufferBytes.
struct ShrinkOnExit {
  ThreadParser& state;
  ~ShrinkOnExit() {
    if (state.buffer.size() > kKeepBufferBytes) {
      std::string().swap(state.buffer);
      state.parser = od::parser();
    }
  }
};

// Copies `body` into the thread's padded buffer and opens its root, which
// must be an object. `document` and `root` stay valid until the next use of
// `state`.
absl::Status OpenRootObject(ThreadParser& state, absl::string_view body, od::document* document,
                            od::object* root) {
  const size_t padded_size = body.size() + simdjson::SIMDJSON_PADDING;
  if (state.buffer.size() < padded_size) state.buffer.resize(padded_size);
  std::memcpy(state.buffer.data(), body.data(), body.size());
  std::memset(state.buffer.data() + body.size(), 0, simdjson::SIMDJSON_PADDING);
  HG_JSON_TRY(
      state.parser.iterate(state.buffer.data(), body.size(), state.buffer.size()).get(*document));
  od::json_type root_type;
  HG_JSON_TRY(document->type().get(root_type));
  if (root_type != od::json_type::object) return Malformed("root is not an object");
  HG_JSON_TRY(document->get_object().get(*root));
  return absl::OkStatus();
}

// Past the root object there must be nothing left to read.
absl::Status CheckNothingTrails(od::document& document) {
  if (document.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return Malformed("trailing bytes after the JSON document");
  }
  return absl::OkStatus();
}

// ------------------------------------------------- JSON Pointers (subjects)

// The pointers to read as a tree of object keys: each node is an object
// whose `keys` are read (children[i] is the value under keys[i]); a pointer
// that ends at a node lists its index in `ends`.
struct PointerNode {
  std::vector<std::string_view> keys;
  std::vector<PointerNode> children;
  std::vector<size_t> ends;
  std::string path;  // the pointer to this node, for errors ("/data/agent_id")
};

// The largest integer every JSON reader holds exactly: JavaScript's
// JSON.parse rounds beyond it, so such an id could name another tenant in a
// Node web tier than here.
constexpr uint64_t kMaxExactInteger = (uint64_t{1} << 53) - 1;

// An integer subject id: the number token as its decimal text, when it is a
// non-negative integer without fraction or exponent, at most
// kMaxExactInteger. `token` may carry trailing whitespace.
std::optional<std::string> IntegerText(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' ||
                            token.back() == '\r')) {
    token.remove_suffix(1);
  }
  if (token.empty() || token.size() > 16) return std::nullopt;
  if (token.size() > 1 && token[0] == '0') return std::nullopt;
  uint64_t value = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > kMaxExactInteger) return std::nullopt;
  return std::string(token);
}

class PointerWalker {
 public:
  explicit PointerWalker(std::vector<std::optional<std::string>>* out) : out_(out) {}

  // Reads `value`, found at `node` inside a container at `depth`.
  absl::Status Walk(od::value value, const PointerNode& node, int depth) {
    od::json_type type;
    HG_JSON_TRY(value.type().get(type));
    if (type == od::json_type::null) {
      bool is_null = false;
      HG_JSON_TRY(value.is_null().get(is_null));
      if (!is_null) return Malformed("body is not valid JSON");
      return absl::OkStatus();  // absent, and so is everything below it
    }
    if (!node.ends.empty()) return ReadLeaf(value, type, node);
    if (type != od::json_type::object) {
      return Malformed(absl::StrCat(node.path, " is not an object"));
    }
    if (depth + 1 > kMaxJsonDepth) {
      return Malformed(absl::StrCat("nested deeper than ", kMaxJsonDepth, " levels"));
    }
    od::object object;
    HG_JSON_TRY(value.get_object().get(object));
    return WalkObject(object, node, depth + 1);
  }

  // Reads the members of `object` (at `depth`) that `node` names and
  // validates the others.
  absl::Status WalkObject(od::object object, const PointerNode& node, int depth) {
    KeySet keys(node.keys);
    for (auto field : object) {
      std::string_view key;
      HG_JSON_TRY(field.unescaped_key().get(key));
      HG_RETURN_IF_ERROR(keys.Add(key));
      od::value value;
      HG_JSON_TRY(field.value().get(value));
      const auto it = std::find(node.keys.begin(), node.keys.end(), key);
      if (it != node.keys.end()) {
        HG_RETURN_IF_ERROR(Walk(value, node.children[it - node.keys.begin()], depth));
      } else {
        HG_RETURN_IF_ERROR(Walker().Validate(value, depth));
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status ReadLeaf(od::value value, od::json_type type, const PointerNode& node) {
    std::string text;
    if (type == od::json_type::string) {
      std::string_view view;
      HG_JSON_TRY(value.get_string().get(view));
      text.assign(view.data(), view.size());
      HG_RETURN_IF_ERROR(CheckEventId(node.path, text));
    } else if (type == od::json_type::number) {
      const std::string_view token = value.raw_json_token();
      if (!IsJsonNumber(token)) return Malformed("body is not valid JSON");
      std::optional<std::string> integer = IntegerText(token);
      if (!integer.has_value()) {
        return Malformed(absl::StrCat(node.path,
                                      " is a number but not an integer from 0 to 2^53 - 1 "
                                      "(no fraction, no exponent)"));
      }
      text = *std::move(integer);
    } else {
      return Malformed(absl::StrCat(node.path, " is neither a string nor an integer"));
    }
    for (size_t end : node.ends) {
      if (!text.empty()) (*out_)[end] = text;  // an empty string is absent
    }
    return absl::OkStatus();
  }

  std::vector<std::optional<std::string>>* out_;
};

}  // namespace

absl::StatusOr<v1::CallEvent> ParseCallEvent(absl::string_view body) {
  thread_local ThreadParser state;
  ShrinkOnExit shrink{state};
  od::document document;
  od::object root;
  HG_RETURN_IF_ERROR(OpenRootObject(state, body, &document, &root));

  EventFields root_fields;
  EventFields message_fields;
  bool has_message = false;  // a non-null root.message
  Walker walker;
  HG_RETURN_IF_ERROR(walker.WalkEvent(root, 1, &root_fields, &message_fields, &has_message));
  HG_RETURN_IF_ERROR(CheckNothingTrails(document));
  // Both shapes in one body: readers that prefer the flat one would read
  // other ids than we do.
  if (has_message && root_fields.has_flat_key) {
    return Malformed("both a message and flat event fields at the root");
  }
  return Finish(has_message ? message_fields : root_fields);
}

absl::Status CheckEventId(absl::string_view name, absl::string_view id) {
  if (id.size() > kMaxIdBytes) {
    return Malformed(absl::StrCat(name, " is longer than ", kMaxIdBytes, " bytes"));
  }
  for (char c : id) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return Malformed(absl::StrCat(name, " holds a control character"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateCallEvent(const v1::CallEvent& event) {
  HG_RETURN_IF_ERROR(CheckEventId("call.id", event.call_id()));
  HG_RETURN_IF_ERROR(CheckEventId("call.assistantId", event.assistant_id()));
  HG_RETURN_IF_ERROR(CheckEventId("call.phoneNumberId", event.phone_number_id()));
  return CheckEventId("call.orgId", event.org_id());
}

absl::StatusOr<std::vector<std::optional<std::string>>> ReadJsonPointers(
    absl::string_view body, absl::Span<const std::vector<std::string>> pointers) {
  PointerNode root;
  for (size_t i = 0; i < pointers.size(); ++i) {
    if (pointers[i].empty()) {
      return absl::InvalidArgumentError("a JSON Pointer to read names no member");
    }
    PointerNode* node = &root;
    for (const std::string& token : pointers[i]) {
      const std::string_view key(token.data(), token.size());
      auto it = std::find(node->keys.begin(), node->keys.end(), key);
      if (it == node->keys.end()) {
        node->keys.push_back(key);
        node->children.emplace_back();
        node->children.back().path = absl::StrCat(node->path, "/", EscapePointerToken(token));
        it = node->keys.end() - 1;
      }
      node = &node->children[it - node->keys.begin()];
    }
    node->ends.push_back(i);
  }

  thread_local ThreadParser state;
  ShrinkOnExit shrink{state};
  od::document document;
  od::object object;
  HG_RETURN_IF_ERROR(OpenRootObject(state, body, &document, &object));
  std::vector<std::optional<std::string>> values(pointers.size());
  PointerWalker walker(&values);
  HG_RETURN_IF_ERROR(walker.WalkObject(object, root, 1));
  HG_RETURN_IF_ERROR(CheckNothingTrails(document));
  return values;
}

std::string EscapePointerToken(absl::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out.append("~0");
    } else if (c == '/') {
      out.append("~1");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace hookguard
