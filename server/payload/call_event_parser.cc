#include "server/payload/call_event_parser.h"

#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
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

// Rejects a key seen before in the same object, compared unescaped.
class KeySet {
 public:
  absl::Status Add(std::string_view unescaped_key) {
    if (!keys_.insert(absl::string_view(unescaped_key.data(), unescaped_key.size())).second) {
      return Malformed("duplicate key in an object that is read");
    }
    return absl::OkStatus();
  }

 private:
  // Views into the parser's string buffer, valid for the whole parse.
  absl::flat_hash_set<absl::string_view> keys_;
};

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
};

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
        od::number number;
        HG_JSON_TRY(value.get_number().get(number));
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
  // `message` and `*message_is_object` set.
  absl::Status WalkEvent(od::object object, int depth, EventFields* fields, EventFields* message,
                         bool* message_is_object) {
    KeySet keys;
    for (auto field : object) {
      std::string_view key;
      HG_JSON_TRY(field.unescaped_key().get(key));
      HG_RETURN_IF_ERROR(keys.Add(key));
      od::value value;
      HG_JSON_TRY(field.value().get(value));
      if (message != nullptr && key == "message") {
        od::json_type type;
        HG_JSON_TRY(value.type().get(type));
        if (type == od::json_type::object) {
          od::object inner;
          HG_RETURN_IF_ERROR(OpenObject(value, depth, &inner));
          *message_is_object = true;
          HG_RETURN_IF_ERROR(WalkEvent(inner, depth + 1, message, nullptr, nullptr));
          continue;
        }
      } else if (key == "type") {
        HG_RETURN_IF_ERROR(ReadId(value, "type", fields->event.mutable_type()));
        continue;
      } else if (key == "call") {
        fields->has_call = true;
        od::json_type type;
        HG_JSON_TRY(value.type().get(type));
        if (type == od::json_type::object) {
          od::object call;
          HG_RETURN_IF_ERROR(OpenObject(value, depth, &call));
          HG_RETURN_IF_ERROR(WalkCall(call, depth + 1, fields));
          continue;
        }
        return Malformed("call is not an object");
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
  absl::Status WalkIds(od::object object, int depth, std::initializer_list<IdField> ids) {
    KeySet keys;
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
    return WalkIds(call, depth,
                   {{"id", "call.id", event.mutable_call_id()},
                    {"assistantId", "call.assistantId", event.mutable_assistant_id()},
                    {"phoneNumberId", "call.phoneNumberId", event.mutable_phone_number_id()},
                    {"orgId", "call.orgId", event.mutable_org_id()}});
  }

  absl::Status WalkPhoneNumber(od::object phone, int depth, EventFields* fields) {
    return WalkIds(phone, depth, {{"id", "phoneNumber.id", &fields->phone_number_object_id}});
  }
};

absl::StatusOr<v1::CallEvent> Finish(EventFields& fields) {
  if (!fields.has_call) return Malformed("no call object");
  if (fields.event.call_id().empty()) return Malformed("no call.id");
  const std::string& from_object = fields.phone_number_object_id;
  std::string* from_call = fields.event.mutable_phone_number_id();
  if (!from_object.empty()) {
    if (from_call->empty()) {
      *from_call = from_object;
    } else if (*from_call != from_object) {
      return Malformed("call.phoneNumberId and phoneNumber.id differ");
    }
  }
  return std::move(fields.event);
}

}  // namespace

absl::StatusOr<v1::CallEvent> ParseCallEvent(absl::string_view body) {
  thread_local ThreadParser state;
  const size_t padded_size = body.size() + simdjson::SIMDJSON_PADDING;
  if (state.buffer.size() < padded_size) state.buffer.resize(padded_size);
  std::memcpy(state.buffer.data(), body.data(), body.size());
  std::memset(state.buffer.data() + body.size(), 0, simdjson::SIMDJSON_PADDING);

  struct ShrinkOnExit {
    ThreadParser& state;
    ~ShrinkOnExit() {
      if (state.buffer.size() > kKeepBufferBytes) {
        std::string().swap(state.buffer);
        state.parser = od::parser();
      }
    }
  } shrink{state};

  od::document document;
  HG_JSON_TRY(
      state.parser.iterate(state.buffer.data(), body.size(), state.buffer.size()).get(document));
  od::json_type root_type;
  HG_JSON_TRY(document.type().get(root_type));
  if (root_type != od::json_type::object) return Malformed("root is not an object");
  od::object root;
  HG_JSON_TRY(document.get_object().get(root));

  EventFields root_fields;
  EventFields message_fields;
  bool message_is_object = false;
  Walker walker;
  HG_RETURN_IF_ERROR(walker.WalkEvent(root, 1, &root_fields, &message_fields, &message_is_object));
  // Past the root object there must be nothing left to read.
  if (document.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return Malformed("trailing bytes after the JSON document");
  }
  return Finish(message_is_object ? message_fields : root_fields);
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

}  // namespace hookguard
