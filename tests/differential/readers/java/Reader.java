// Jackson (com.fasterxml.jackson.databind.ObjectMapper with default settings),
// read the two ways a Java web tier reads a VAPI event: into POJOs whose
// @JsonProperty names are VAPI's field names (unknown fields ignored, as
// every real VAPI payload needs), and into a JsonNode tree. Usage:
// java -cp JACKSON Reader.java BODIES. Output and reading rule: see
// ../read_python.py.

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class Reader {
  @JsonIgnoreProperties(ignoreUnknown = true)
  public static class Call {
    @JsonProperty("id") public String id;
    @JsonProperty("assistantId") public String assistantId;
    @JsonProperty("phoneNumberId") public String phoneNumberId;
    @JsonProperty("orgId") public String orgId;
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  public static class PhoneNumber {
    @JsonProperty("id") public String id;
  }

  /** A chat or session object: no call, an assistant. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public static class Chat {
    @JsonProperty("assistantId") public String assistantId;
    @JsonProperty("orgId") public String orgId;
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  public static class Event {
    @JsonProperty("type") public String type;
    @JsonProperty("call") public Call call;
    @JsonProperty("phoneNumber") public PhoneNumber phoneNumber;
    @JsonProperty("chat") public Chat chat;
    @JsonProperty("session") public Chat session;
  }

  /** The root: a message, or the flat shape's fields. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public static class Body extends Event {
    @JsonProperty("message") public Event message;
  }

  static final ObjectMapper MAPPER = new ObjectMapper();

  static String text(String s) {
    return s == null ? "" : s;
  }

  static Map<String, Object> readPojo(byte[] raw) throws Exception {
    Body body = MAPPER.readValue(raw, Body.class);
    Event event = body.message != null ? body.message : body;
    String assistant = null;
    if (event.call != null) {
      assistant = event.call.assistantId;
    } else if (event.chat != null) {
      assistant = event.chat.assistantId;
    } else if (event.session != null) {
      assistant = event.session.assistantId;
    }
    String phone = event.call == null ? null : event.call.phoneNumberId;
    if ((phone == null || phone.isEmpty()) && event.phoneNumber != null) {
      phone = event.phoneNumber.id;
    }
    return ids(event.call == null ? null : event.call.id, assistant, phone);
  }

  static JsonNode member(JsonNode parent, String key) {
    JsonNode v = parent == null ? null : parent.get(key);
    return v != null && v.isObject() ? v : null;
  }

  static String text(JsonNode parent, String key) {
    JsonNode v = parent == null ? null : parent.get(key);
    if (v == null || v.isNull()) {
      return "";
    }
    return v.isTextual() ? v.textValue() : v.toString();
  }

  static Map<String, Object> readTree(byte[] raw) throws Exception {
    JsonNode root = MAPPER.readTree(raw);
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("root is not an object");
    }
    JsonNode message = member(root, "message");
    JsonNode event = message != null ? message : root;
    JsonNode call = member(event, "call");
    JsonNode chat = member(event, "chat");
    if (chat == null) {
      chat = member(event, "session");
    }
    String assistant = call != null ? text(call, "assistantId") : text(chat, "assistantId");
    String phone = text(call, "phoneNumberId");
    if (phone.isEmpty()) {
      phone = text(member(event, "phoneNumber"), "id");
    }
    return ids(text(call, "id"), assistant, phone);
  }

  static Map<String, Object> ids(String call, String assistant, String phone) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("call", text(call));
    out.put("assistant", text(assistant));
    out.put("phone", text(phone));
    return out;
  }

  interface Read {
    Map<String, Object> apply(byte[] raw) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    PrintStream stdout = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    List<String> lines = Files.readAllLines(Path.of(args[0]));
    Map<String, Read> readers = new LinkedHashMap<>();
    readers.put("jackson POJO", Reader::readPojo);
    readers.put("jackson tree", Reader::readTree);
    for (Map.Entry<String, Read> reader : readers.entrySet()) {
      for (int i = 0; i < lines.size(); i++) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("reader", reader.getKey());
        out.put("i", i);
        try {
          out.putAll(reader.getValue().apply(Base64.getDecoder().decode(lines.get(i))));
        } catch (Exception e) {
          out.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        stdout.println(MAPPER.writeValueAsString(out));
      }
    }
  }
}
