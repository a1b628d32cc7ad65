package dev.hookguard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hookguard.v1.AuthorizeWebhookRequest;
import dev.hookguard.v1.AuthorizeWebhookResponse;
import dev.hookguard.v1.Decision;
import dev.hookguard.v1.DenyReason;
import dev.hookguard.v1.OwnerSource;
import dev.hookguard.v1.WebhookAuthServiceGrpc;
import io.grpc.EquivalentAddressGroup;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The helper against an in-process fake server; one test per failure mode. */
class WebhookGuardTest {
  private FakeHookguard fake;

  private WebhookGuard fake(Duration timeout,
      Function<AuthorizeWebhookRequest, Object> answer) throws Exception {
    fake = FakeHookguard.start(answer);
    return WebhookGuard.forChannel(fake.channel, timeout);
  }

  private final List<Server> replicas = new ArrayList<>();
  private NameResolverProvider resolver;

  /** A fake replica on a loopback port that counts its calls. */
  private InetSocketAddress replica(Status failure, AtomicInteger calls) throws Exception {
    Server s = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(new WebhookAuthServiceGrpc.WebhookAuthServiceImplBase() {
          @Override
          public void authorizeWebhook(AuthorizeWebhookRequest req,
              StreamObserver<AuthorizeWebhookResponse> out) {
            calls.incrementAndGet();
            if (failure != null) {
              out.onError(failure.asRuntimeException());
              return;
            }
            out.onNext(AuthorizeWebhookResponse.newBuilder().setDecision(Decision.DECISION_ALLOW)
                .setOwnerId("1").setHttpStatus(200).build());
            out.onCompleted();
          }
        }).build().start();
    replicas.add(s);
    return new InetSocketAddress("127.0.0.1", s.getPort());
  }

  /** Registers the scheme "replicas:" that resolves to these addresses (as a headless Service). */
  private void resolveReplicasTo(InetSocketAddress... addresses) {
    List<EquivalentAddressGroup> groups = new ArrayList<>();
    for (InetSocketAddress a : addresses) {
      groups.add(new EquivalentAddressGroup(a));
    }
    resolver = new NameResolverProvider() {
      @Override
      protected boolean isAvailable() { return true; }
      @Override
      protected int priority() { return 5; }
      @Override
      public String getDefaultScheme() { return "replicas"; }
      @Override
      public NameResolver newNameResolver(URI uri, NameResolver.Args args) {
        return !"replicas".equals(uri.getScheme()) ? null : new NameResolver() {
          @Override
          public String getServiceAuthority() { return "hookguard"; }
          @Override
          public void start(Listener2 listener) {
            listener.onResult(ResolutionResult.newBuilder().setAddresses(groups).build());
          }
          @Override
          public void shutdown() {}
        };
      }
    };
    NameResolverRegistry.getDefaultRegistry().register(resolver);
  }

  @AfterEach
  void tearDown() {
    if (fake != null) fake.close();
    replicas.forEach(Server::shutdownNow);
    if (resolver != null) NameResolverRegistry.getDefaultRegistry().deregister(resolver);
  }

  @Test
  void defaultServiceConfigSpreadsCallsAndRetriesUnavailable() throws Exception {
    AtomicInteger downCalls = new AtomicInteger();
    AtomicInteger upCalls = new AtomicInteger();
    resolveReplicasTo(replica(Status.UNAVAILABLE.withDescription("going away"), downCalls),
        replica(null, upCalls));
    try (WebhookGuard g = WebhookGuard.newBuilder("replicas:///hookguard")
        .timeout(Duration.ofSeconds(2)).build()) {
      // Until both replicas are connected round_robin picks only the ready one:
      // when the failing one connects first, a call can spend its three attempts
      // there (seen on a loaded machine). Warm up until each has answered a call.
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while ((downCalls.get() == 0 || upCalls.get() == 0) && System.nanoTime() < deadline) {
        g.authorizeWebhook(new byte[0], Map.of());
      }
      assertTrue(downCalls.get() > 0 && upCalls.get() > 0, "both replicas connected");
      int down = downCalls.get();
      int up = upCalls.get();
      // Both ready: every call is allowed, and the calls round_robin sends to the
      // failing replica are retried on the other.
      for (int i = 0; i < 20; i++) {
        Verdict v = g.authorizeWebhook(new byte[0], Map.of());
        assertTrue(v.allowed(), v.toString());
      }
      assertEquals(20, upCalls.get() - up);
      assertTrue(downCalls.get() - down >= 1, "round_robin picked the failing replica too");
    }
  }

  @Test
  void defaultRetryStopsAfterThreeAttempts() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    InetSocketAddress a = replica(Status.UNAVAILABLE.withDescription("db down"), calls);
    try (WebhookGuard g = WebhookGuard.newBuilder("127.0.0.1:" + a.getPort())
        .timeout(Duration.ofSeconds(2)).build()) {
      Verdict v = g.authorizeWebhook(new byte[0], Map.of());
      assertEquals(503, v.httpStatus());
      assertEquals(Status.Code.UNAVAILABLE, v.error());
    }
    assertEquals(3, calls.get());
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
  void shadowDenyIsAllowedAndLogged() throws Exception {
    try (ClientLog log = new ClientLog()) {
      List<String> logged = log.lines;
      WebhookGuard g = fake(Duration.ofSeconds(1), req -> AuthorizeWebhookResponse.newBuilder()
          .setDecision(Decision.DECISION_ALLOW).setHttpStatus(200).setDecisionId("d-s")
          .setResolvedBy(OwnerSource.OWNER_SOURCE_ASSISTANT).setDeliveryKey("k-1")
          .setShadowDecision(Decision.DECISION_DENY)
          .setShadowReason(DenyReason.DENY_REASON_OWNER_CONFLICT).build());
      Verdict v = g.authorizeWebhook(new byte[0], Map.of());
      assertTrue(v.allowed());
      assertEquals(200, v.httpStatus());
      assertTrue(v.shadowDeny());
      assertEquals(OwnerSource.OWNER_SOURCE_ASSISTANT, v.resolvedBy());
      assertEquals("k-1", v.deliveryKey());
      assertEquals(1, logged.size());
      assertTrue(logged.get(0).contains("DENY_REASON_OWNER_CONFLICT"), logged.get(0));
      assertTrue(logged.get(0).contains("d-s"), logged.get(0));
    }
  }

  @Test
  void enforcedAllowIsNoShadowDeny() throws Exception {
    WebhookGuard g = fake(Duration.ofSeconds(1), req -> AuthorizeWebhookResponse.newBuilder()
        .setDecision(Decision.DECISION_ALLOW).setHttpStatus(200).build());
    Verdict v = g.authorizeWebhook(new byte[0], Map.of());
    assertTrue(v.allowed());
    assertFalse(v.shadowDeny());
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
    // --- docs/guides/java.md: WebhookGuard ---
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
