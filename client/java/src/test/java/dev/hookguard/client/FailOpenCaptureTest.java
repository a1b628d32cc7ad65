package dev.hookguard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.hookguard.v1.AuthorizeWebhookRequest;
import dev.hookguard.v1.AuthorizeWebhookResponse;
import dev.hookguard.v1.Decision;
import dev.hookguard.v1.DenyReason;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** failOpen(true) and the capture file writer. */
class FailOpenCaptureTest {
  private FakeHookguard fake;

  private WebhookGuard fake(Function<AuthorizeWebhookRequest, Object> answer) throws Exception {
    fake = FakeHookguard.start(answer);
    return WebhookGuard.forChannel(fake.channel, Duration.ofSeconds(1), true);
  }

  @AfterEach
  void tearDown() {
    if (fake != null) {
      fake.close();
      fake = null;
    }
  }

  @Test
  void failOpenUnreachableServerLetsThroughWithErrorAndNoOwner() throws Exception {
    List<String> logged;
    try (ClientLog log = new ClientLog();
        WebhookGuard guard = WebhookGuard.newBuilder("127.0.0.1:1")
            .timeout(Duration.ofMillis(300)).failOpen(true).build()) {
      logged = log.lines;
      Verdict v = guard.authorizeWebhook("{\"secret\":1}".getBytes(StandardCharsets.UTF_8),
          Map.of("x-vapi-signature", "sig-abc"), "vapi", "");
      assertTrue(v.allowed());
      assertTrue(v.failedOpen());
      assertEquals(200, v.httpStatus());
      assertEquals("", v.ownerId());
      // Nothing listens: refused (UNAVAILABLE), or still connecting at the deadline.
      assertTrue(v.error() == Status.Code.UNAVAILABLE || v.error() == Status.Code.DEADLINE_EXCEEDED,
          String.valueOf(v.error()));
    }
    assertEquals(1, logged.size());
    assertTrue(logged.get(0).contains("fail-open") && logged.get(0).contains("'vapi'"),
        logged.get(0));
    assertFalse(logged.get(0).contains("sig-abc") || logged.get(0).contains("secret"));
  }

  @Test
  void failOpenStillObeysADeny() throws Exception {
    WebhookGuard g = fake(req -> AuthorizeWebhookResponse.newBuilder()
        .setDecision(Decision.DECISION_DENY).setReason(DenyReason.DENY_REASON_OWNER_MISMATCH)
        .setHttpStatus(403).build());
    Verdict v = g.authorizeWebhook(new byte[0], Map.of());
    assertFalse(v.allowed());
    assertEquals(403, v.httpStatus());
    assertNull(v.error());
  }

  @Test
  void failOpenOnStatusErrorLetsThrough() throws Exception {
    WebhookGuard g = fake(req -> Status.UNAVAILABLE.withDescription("db down"));
    Verdict v = g.authorizeWebhook(new byte[0], Map.of());
    assertTrue(v.failedOpen());
    assertEquals(200, v.httpStatus());
  }

  @Test
  void failOpenIsOffByDefault() throws Exception {
    try (WebhookGuard guard = WebhookGuard.newBuilder("127.0.0.1:1")
        .timeout(Duration.ofMillis(300)).build()) {
      Verdict v = guard.authorizeWebhook(new byte[0], Map.of());
      assertFalse(v.allowed());
      assertEquals(503, v.httpStatus());
    }
  }

  @Test
  void captureFileHasTheFormatKeysTheRawBytesAndMode0600(@TempDir Path dir) throws Exception {
    WebhookGuard g = fake(req -> AuthorizeWebhookResponse.newBuilder()
        .setDecision(Decision.DECISION_DENY).setReason(DenyReason.DENY_REASON_CALL_NOT_FOUND)
        .setHttpStatus(404).setDecisionId("0123abcd").build());
    byte[] body = new byte[] {'{', 0, (byte) 0xff, '"', '\\', '}'};
    Verdict v = g.authorizeWebhook(body, Map.of("X-Signature", "s\"1"));
    assertTrue(Capture.shouldCapture(v));
    Path file = Capture.write(dir.resolve("sub"), body, Map.of("X-Signature", "s\"1"), v, "vapi",
        "POST", "https://app/webhooks/vapi", "42");
    assertTrue(file.getFileName().toString().matches("\\d{8}T\\d{6}Z-0123abcd\\.json"));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    try (Stream<Path> s = Files.list(file.getParent())) {
      assertEquals(List.of(file), s.collect(Collectors.toList()));
    }
    JsonObject rec = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    assertEquals(List.of("format", "captured_at", "profile", "method", "url", "headers",
        "body_base64", "expected_owner_id", "decision", "shadow_decision", "reason", "http_status",
        "decision_id"), new ArrayList<>(rec.keySet()));
    assertEquals(Capture.FORMAT, rec.get("format").getAsString());
    assertTrue(rec.get("captured_at").getAsString().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"));
    assertEquals(java.util.Arrays.toString(body), java.util.Arrays.toString(
        Base64.getDecoder().decode(rec.get("body_base64").getAsString())));
    assertEquals("s\"1", rec.getAsJsonObject("headers").get("x-signature").getAsString());
    assertEquals("DECISION_DENY", rec.get("decision").getAsString());
    assertEquals("DECISION_UNSPECIFIED", rec.get("shadow_decision").getAsString());
    assertEquals("DENY_REASON_CALL_NOT_FOUND", rec.get("reason").getAsString());
    assertEquals(404, rec.get("http_status").getAsInt());
    assertEquals("42", rec.get("expected_owner_id").getAsString());
  }

  @Test
  void shadowWouldDenyIsCapturedAllowAndNoDecisionAreNot() throws Exception {
    WebhookGuard g = fake(req -> AuthorizeWebhookResponse.newBuilder()
        .setDecision(Decision.DECISION_ALLOW).setHttpStatus(200)
        .setShadowDecision(Decision.DECISION_DENY)
        .setShadowReason(DenyReason.DENY_REASON_OWNER_MISMATCH).build());
    Verdict shadow = g.authorizeWebhook(new byte[0], Map.of());
    assertTrue(Capture.shouldCapture(shadow));
    String rec = Capture.record(new byte[0], Map.of(), shadow, "", "", "", "",
        java.time.Instant.now());
    assertTrue(rec.contains("\"reason\": \"DENY_REASON_OWNER_MISMATCH\""), rec);
    tearDown();
    Verdict allow = fake(req -> AuthorizeWebhookResponse.newBuilder()
        .setDecision(Decision.DECISION_ALLOW).setHttpStatus(200).build())
        .authorizeWebhook(new byte[0], Map.of());
    assertFalse(Capture.shouldCapture(allow));
    tearDown();
    Verdict none = fake(req -> Status.UNAVAILABLE).authorizeWebhook(new byte[0], Map.of());
    assertFalse(Capture.shouldCapture(none));
  }

  @Test
  void unsafeDecisionIdGetsARandomName(@TempDir Path dir) throws Exception {
    WebhookGuard g = fake(req -> AuthorizeWebhookResponse.newBuilder()
        .setDecision(Decision.DECISION_DENY).setHttpStatus(403).setDecisionId("../../x").build());
    Verdict v = g.authorizeWebhook(new byte[0], Map.of());
    Path file = Capture.write(dir, new byte[0], Map.of(), v, "", "", "", "");
    assertEquals(dir, file.getParent());
    assertTrue(file.getFileName().toString().matches("\\d{8}T\\d{6}Z-[0-9a-f]{16}\\.json"));
  }
}
