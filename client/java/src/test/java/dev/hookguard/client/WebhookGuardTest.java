package dev.hookguard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hookguard.v1.AuthorizeWebhookRequest;
import dev.hookguard.v1.AuthorizeWebhookResponse;
import dev.hookguard.v1.Decision;
import dev.hookguard.v1.DenyReason;
import dev.hookguard.v1.WebhookAuthServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The helper against an in-process fake server; one test per failure mode. */
class WebhookGuardTest {
  private Server server;
  private ManagedChannel channel;

  private WebhookGuard fake(Duration timeout,
      Function<AuthorizeWebhookRequest, Object> answer) throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(new WebhookAuthServiceGrpc.WebhookAuthServiceImplBase() {
          @Override
          public void authorizeWebhook(AuthorizeWebhookRequest req,
              StreamObserver<AuthorizeWebhookResponse> out) {
            Object a = answer.apply(req);
            if (a instanceof Status) {
              out.onError(((Status) a).asRuntimeException());
            } else {
              out.onNext((AuthorizeWebhookResponse) a);
              out.onCompleted();
            }
          }
        }).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
    return WebhookGuard.forChannel(channel, timeout);
  }

  @AfterEach
  void tearDown() {
    if (channel != null) channel.shutdownNow();
    if (server != null) server.shutdownNow();
  }

  @Test
  void authorizationAllowedPassesRequestThrough() throws Exception {
    AtomicReference<AuthorizeWebhookRequest> seen = new AtomicReference<>();
    WebhookGuard g = fake(Duration.ofSeconds(1), req -> {
      seen.set(req);
      return AuthorizeWebhookResponse.newBuilder().setDecision(Decision.DECISION_ALLOW)
          .setOwnerId("1").setHttpStatus(200).setKeyId("env").build();
    });
    byte[] body = {'{', 0, (byte) 0xff, '}'};
    Verdict v = g.authorizeWebhook(body, Map.of("X-Vapi-Signature", "ab"), "vapi", "1");
    assertTrue(v.allowed());
    assertEquals("1", v.ownerId());
    assertEquals(200, v.httpStatus());
    assertNull(v.error());
    assertEquals("vapi", seen.get().getProfile());
    assertEquals("1", seen.get().getExpectedOwnerId());
    assertEquals("ab", seen.get().getRequest().getHeadersOrThrow("X-Vapi-Signature"));
    assertEquals(4, seen.get().getRequest().getBody().size());
  }

  @Test
  void authorizationDeniedMirrorsHttpStatus() throws Exception {
    WebhookGuard g = fake(Duration.ofSeconds(1), req -> AuthorizeWebhookResponse.newBuilder()
        .setDecision(Decision.DECISION_DENY).setReason(DenyReason.DENY_REASON_OWNER_MISMATCH)
        .setHttpStatus(403).setOwnerId("2").build());
    Verdict v = g.authorizeWebhook(new byte[0], Map.of());
    assertFalse(v.allowed());
    assertEquals(403, v.httpStatus());
    assertEquals("", v.ownerId());
  }

  @Test
  void unspecifiedDecisionIsDeny() throws Exception {
    WebhookGuard g = fake(Duration.ofSeconds(1),
        req -> AuthorizeWebhookResponse.newBuilder().setHttpStatus(200).build());
    Verdict v = g.authorizeWebhook(new byte[0], Map.of());
    assertFalse(v.allowed());
    assertEquals(403, v.httpStatus());
  }

  @Test
  void serverUnavailableFailsClosed() throws Exception {
    WebhookGuard g = fake(Duration.ofSeconds(1), req -> Status.UNAVAILABLE.withDescription("db"));
    Verdict v = g.authorizeWebhook(new byte[0], Map.of());
    assertFalse(v.allowed());
    assertEquals(503, v.httpStatus());
    assertEquals(Status.Code.UNAVAILABLE, v.error());
  }

  @Test
  void deadlineExceededFailsClosed() throws Exception {
    WebhookGuard g = fake(Duration.ofMillis(50), req -> {
      try {
        Thread.sleep(300);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return AuthorizeWebhookResponse.newBuilder().setDecision(Decision.DECISION_ALLOW).build();
    });
    Verdict v = g.authorizeWebhook(new byte[0], Map.of());
    assertFalse(v.allowed());
    assertEquals(503, v.httpStatus());
    assertEquals(Status.Code.DEADLINE_EXCEEDED, v.error());
  }

  @Test
  void noServerFailsClosed() throws Exception {
    String target = "127.0.0.1:1";  // nothing listens there
    byte[] rawBody = "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    Map<String, String> headers = Map.of("x-vapi-signature", "00");
    int status;
    String ownerId = null;
    // --- docs/clients.md: Java ---
    try (WebhookGuard guard = WebhookGuard.newBuilder(target)  // build once, share
        .timeout(Duration.ofMillis(500)).build()) {
      Verdict v = guard.authorizeWebhook(rawBody, headers);
      if (!v.allowed()) {
        status = v.httpStatus();  // 401/403/404/400, or 503 when hookguard is unreachable
      } else {
        ownerId = v.ownerId();    // process the event for this user only
        status = 200;
      }
    }
    // --- end ---
    assertEquals(503, status);
    assertNull(ownerId);
  }
}
