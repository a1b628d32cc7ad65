package dev.hookguard.client;

import dev.hookguard.v1.AuthorizeWebhookRequest;
import dev.hookguard.v1.HttpRequest;
import dev.hookguard.v1.WebhookAuthServiceGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import com.google.protobuf.ByteString;
import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Asks hookguard whether a webhook may be processed.
 *
 * <pre>{@code
 * WebhookGuard guard = WebhookGuard.newBuilder("hookguard:50051").build();
 * Verdict v = guard.authorizeWebhook(rawBody, headers);
 * if (!v.allowed()) { response.setStatus(v.httpStatus()); return; }
 * process(event, v.ownerId());
 * }</pre>
 *
 * <p>Fail closed: an RPC error never throws and never allows; it returns a {@link Verdict} with
 * {@code allowed() == false} and {@code httpStatus() == 503}. Unless the builder sets {@code
 * failOpen(true)}: then such a verdict lets the webhook through unverified ({@code allowed()},
 * {@code httpStatus() == 200}, {@code ownerId()} empty, {@code error()} set) and a warning goes to
 * the System.Logger "dev.hookguard.client" every time. A decision (ALLOW or DENY) is always obeyed. A profile in shadow mode answers
 * ALLOW; when enforcement would have denied, a warning with the decision id and the shadow reason
 * goes to the System.Logger "dev.hookguard.client". Thread-safe: share one instance.
 */
public final class WebhookGuard implements AutoCloseable {
  /** Deadline of one call unless the builder sets another. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(500);

  private static final System.Logger LOG = System.getLogger("dev.hookguard.client");

  /**
   * The gRPC service config of a channel the builder makes: round_robin over every address the
   * target resolves to (a Kubernetes headless Service, {@code
   * dns:///hookguard-headless.NS.svc:50051}, gives one per pod), and a call that fails UNAVAILABLE
   * (a replica going away, a connection reset) retried on the next replica, up to 3 attempts and
   * never past the call's deadline. All three RPCs only read, so a retry is safe. (grpc-java reads
   * JSON numbers as Double.)
   */
  public static final Map<String, ?> SERVICE_CONFIG = Map.of(
      "loadBalancingConfig", List.of(Map.of("round_robin", Map.of())),
      "methodConfig", List.of(Map.of(
          "name", List.of(Map.of("service", "hookguard.v1.WebhookAuthService")),
          "retryPolicy", Map.of(
              "maxAttempts", 3.0,
              "initialBackoff", "0.05s",
              "maxBackoff", "0.2s",
              "backoffMultiplier", 2.0,
              "retryableStatusCodes", List.of("UNAVAILABLE")))));

  private final ManagedChannel ownedChannel;
  private final WebhookAuthServiceGrpc.WebhookAuthServiceBlockingStub stub;
  private final Duration timeout;
  private final boolean failOpen;

  private WebhookGuard(io.grpc.Channel channel, ManagedChannel owned, Duration timeout,
      boolean failOpen) {
    this.ownedChannel = owned;
    this.stub = WebhookAuthServiceGrpc.newBlockingStub(channel);
    this.timeout = timeout;
    this.failOpen = failOpen;
  }

  public static Builder newBuilder(String target) {
    return new Builder(target);
  }

  /** Uses a channel the caller owns (tests, custom interceptors); close() leaves it open. */
  public static WebhookGuard forChannel(io.grpc.Channel channel, Duration timeout) {
    return new WebhookGuard(channel, null, timeout, false);
  }

  /** As {@link #forChannel(io.grpc.Channel, Duration)}, with the fail-open switch. */
  public static WebhookGuard forChannel(io.grpc.Channel channel, Duration timeout,
      boolean failOpen) {
    return new WebhookGuard(channel, null, timeout, failOpen);
  }

  /** AuthorizeWebhook with the default profile and no expected owner. */
  public Verdict authorizeWebhook(byte[] body, Map<String, String> headers) {
    return authorizeWebhook(body, headers, "", "");
  }

  /**
   * One round trip: signature on the raw bytes, payload, ownership.
   *
   * @param body the raw request body, exactly as received
   * @param headers the request's headers (names are matched case-insensitively by the server)
   * @param profile the verification profile; empty selects the server's default
   * @param expectedOwnerId the user the caller acts for; empty is not checked
   */
  public Verdict authorizeWebhook(byte[] body, Map<String, String> headers, String profile,
      String expectedOwnerId) {
    return authorizeWebhook(body, headers, profile, expectedOwnerId, "", "");
  }

  /**
   * As {@link #authorizeWebhook(byte[], Map, String, String)}, with the request's method and full
   * URL for the profiles that sign them (Twilio signs the URL it requested: pass the scheme, host,
   * port, path and query as the platform called them, e.g. from the forwarded headers your proxy
   * sets, never from an untrusted request's own Host header).
   *
   * @param method the HTTP method, e.g. "POST"; empty when the profile does not sign it
   * @param url the full request URL, e.g. "https://example.com/twilio/status?tenant=1"; empty when
   *     the profile does not sign it
   */
  public Verdict authorizeWebhook(byte[] body, Map<String, String> headers, String profile,
      String expectedOwnerId, String method, String url) {
    AuthorizeWebhookRequest request = AuthorizeWebhookRequest.newBuilder()
        .setProfile(profile == null ? "" : profile)
        .setExpectedOwnerId(expectedOwnerId == null ? "" : expectedOwnerId)
        .setRequest(HttpRequest.newBuilder()
            .setBody(ByteString.copyFrom(body == null ? new byte[0] : body))
            .putAllHeaders(headers == null ? Map.of() : headers)
            .setMethod(method == null ? "" : method)
            .setUrl(url == null ? "" : url))
        .build();
    Verdict v;
    try {
      v = Verdict.fromResponse(
          stub.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS).authorizeWebhook(request));
    } catch (StatusRuntimeException e) {
      return noDecision(Verdict.fromError(e), profile);
    } catch (RuntimeException e) {
      return noDecision(Verdict.fromError(e), profile);
    }
    if (v.shadowDeny()) {
      LOG.log(System.Logger.Level.WARNING, "hookguard shadow mode: let through a webhook that"
          + " enforcement would deny ({0}, decision_id {1})", v.shadowReason(), v.decisionId());
    }
    return v;
  }

  private Verdict noDecision(Verdict v, String profile) {
    if (!failOpen) {
      return v;
    }
    LOG.log(System.Logger.Level.WARNING, "hookguard gave no decision ({0}) for profile ''{1}'':"
        + " fail-open lets the webhook through UNVERIFIED, with no owner", v.error(),
        profile == null ? "" : profile);
    return v.openedOnFailure();
  }

  @Override
  public void close() {
    if (ownedChannel != null) {
      ownedChannel.shutdownNow();
    }
  }

  /**
   * Builds a WebhookGuard: plaintext unless a CA or client certificate is set. The target is
   * "host:port", or "dns:///name:port" for a name with one address per replica (calls are spread
   * over all of them and retried on UNAVAILABLE; see {@link #SERVICE_CONFIG}).
   */
  public static final class Builder {
    private final String target;
    private Duration timeout = DEFAULT_TIMEOUT;
    private boolean failOpen;
    private File caFile;
    private File certFile;
    private File keyFile;

    private Builder(String target) {
      this.target = target;
    }

    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /**
     * Default false. True: when hookguard gives no decision (unreachable, deadline, any RPC error),
     * the verdict lets the webhook through with an empty owner and {@code error()} set, and a
     * warning is logged. A decision (ALLOW or DENY) is always obeyed.
     */
    public Builder failOpen(boolean failOpen) {
      this.failOpen = failOpen;
      return this;
    }

    /** TLS, trusting the CA in this PEM file. */
    public Builder trustCa(File caPem) {
      this.caFile = caPem;
      return this;
    }

    /** mTLS: the client certificate chain and private key (PEM). */
    public Builder clientCertificate(File certPem, File keyPem) {
      this.certFile = certPem;
      this.keyFile = keyPem;
      return this;
    }

    public WebhookGuard build() throws IOException {
      ChannelCredentials creds;
      if (caFile == null && certFile == null) {
        creds = InsecureChannelCredentials.create();
      } else {
        TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
        if (caFile != null) {
          tls.trustManager(caFile);
        }
        if (certFile != null) {
          tls.keyManager(certFile, keyFile);
        }
        creds = tls.build();
      }
      ManagedChannel channel = Grpc.newChannelBuilder(target, creds)
          .defaultServiceConfig(SERVICE_CONFIG).enableRetry().build();
      return new WebhookGuard(channel, channel, timeout, failOpen);
    }
  }
}
