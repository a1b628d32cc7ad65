package dev.hookguard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.io.File;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Contract runner for the Java client: every vector of tests/contract/vectors.json against the
 * live server at HOOKGUARD_TARGET. Run with {@code mvn -Pcontract test} (tests/contract/run.sh).
 */
class ContractTest {
  @TestFactory
  List<DynamicTest> vectors() throws Exception {
    String target = System.getenv("HOOKGUARD_TARGET");
    assertNotNull(target, "HOOKGUARD_TARGET is required");
    String path = System.getenv().getOrDefault("HOOKGUARD_VECTORS", "../../tests/contract/vectors.json");
    JsonObject doc = JsonParser.parseString(Files.readString(Path.of(path))).getAsJsonObject();
    WebhookGuard guard = WebhookGuard.newBuilder(target).timeout(Duration.ofSeconds(5)).build();
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonElement e : doc.getAsJsonArray("vectors")) {
      JsonObject v = e.getAsJsonObject();
      tests.add(DynamicTest.dynamicTest(v.get("name").getAsString(), () -> check(guard, v)));
    }
    return tests;
  }

  /** A vector's string field that only some vectors carry (method, url): "" when absent. */
  private static String optional(JsonObject v, String key) {
    return v.has(key) ? v.get(key).getAsString() : "";
  }

  private static void check(WebhookGuard guard, JsonObject v) {
    byte[] body = v.has("body_base64")
        ? Base64.getDecoder().decode(v.get("body_base64").getAsString())
        : v.get("body").getAsString().getBytes(StandardCharsets.UTF_8);
    Map<String, String> headers = new HashMap<>();
    v.getAsJsonObject("headers").entrySet()
        .forEach(h -> headers.put(h.getKey(), h.getValue().getAsString()));
    Verdict got = guard.authorizeWebhook(body, headers, v.get("profile").getAsString(),
        v.get("expected_owner_id").getAsString(), optional(v, "method"), optional(v, "url"));
    Map<String, String> actual = new HashMap<>();
    actual.put("decision", got.decision().name());
    actual.put("reason", got.reason().name());
    actual.put("http_status", Integer.toString(got.httpStatus()));
    actual.put("owner_id", got.ownerId());
    actual.put("signature", got.signature().name());
    actual.put("key_id", got.keyId());
    actual.put("error", got.error() == null ? null : got.error().name());
    actual.put("resolved_by", got.resolvedBy().name());
    actual.put("delivery_key", got.deliveryKey());
    actual.put("shadow_decision", got.shadowDecision().name());
    actual.put("shadow_reason", got.shadowReason().name());
    actual.put("resolved_subject", got.resolvedSubject());
    // Every expect key, and only those; a key this runner cannot read fails.
    Map<String, String> want = new HashMap<>();
    Map<String, String> seen = new HashMap<>();
    for (Map.Entry<String, JsonElement> x : v.getAsJsonObject("expect").entrySet()) {
      assertTrue(actual.containsKey(x.getKey()), "unknown expect key " + x.getKey());
      want.put(x.getKey(), x.getValue().getAsString());
      seen.put(x.getKey(), actual.get(x.getKey()));
    }
    String what = v.get("description").getAsString() + " (" + got + ")";
    assertEquals(want, seen, what);
    assertEquals("DECISION_ALLOW".equals(want.get("decision")), got.allowed(), what);
    assertEquals("DECISION_DENY".equals(want.get("shadow_decision")), got.shadowDeny(), what);
  }

  private static JsonObject allowVector() throws Exception {
    String path = System.getenv().getOrDefault("HOOKGUARD_VECTORS", "../../tests/contract/vectors.json");
    JsonObject doc = JsonParser.parseString(Files.readString(Path.of(path))).getAsJsonObject();
    for (JsonElement e : doc.getAsJsonArray("vectors")) {
      if (e.getAsJsonObject().get("name").getAsString().equals("allow_message_shape")) {
        return e.getAsJsonObject();
      }
    }
    throw new AssertionError("allow_message_shape not in vectors");
  }

  private static Verdict askOverTls(boolean withClientCertificate) throws Exception {
    String target = System.getenv("HOOKGUARD_TLS_TARGET");
    assertNotNull(target, "HOOKGUARD_TLS_TARGET is required");
    WebhookGuard.Builder b = WebhookGuard.newBuilder(target).timeout(Duration.ofSeconds(5))
        .trustCa(new File(System.getenv("HOOKGUARD_TLS_CA")));
    if (withClientCertificate) {
      b.clientCertificate(new File(System.getenv("HOOKGUARD_TLS_CERT")),
          new File(System.getenv("HOOKGUARD_TLS_KEY")));
    }
    JsonObject v = allowVector();
    Map<String, String> headers = new HashMap<>();
    v.getAsJsonObject("headers").entrySet()
        .forEach(h -> headers.put(h.getKey(), h.getValue().getAsString()));
    try (WebhookGuard guard = b.build()) {
      return guard.authorizeWebhook(v.get("body").getAsString().getBytes(StandardCharsets.UTF_8),
          headers);
    }
  }

  @Test
  void mutualTlsClientIsAllowed() throws Exception {
    Verdict v = askOverTls(true);
    assertTrue(v.allowed(), v.toString());
    assertEquals("1", v.ownerId());
  }

  @Test
  void tlsWithoutClientCertificateFailsClosed() throws Exception {
    Verdict v = askOverTls(false);
    assertFalse(v.allowed());
    assertEquals(503, v.httpStatus());
  }
}
