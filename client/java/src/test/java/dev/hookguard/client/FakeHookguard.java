package dev.hookguard.client;

import dev.hookguard.v1.AuthorizeWebhookRequest;
import dev.hookguard.v1.AuthorizeWebhookResponse;
import dev.hookguard.v1.WebhookAuthServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.function.Function;

/**
 * An in-process fake hookguard server: answers each AuthorizeWebhook with {@code answer(request)},
 * an AuthorizeWebhookResponse or a Status (sent as the call's error).
 */
final class FakeHookguard implements AutoCloseable {
  final Server server;
  final ManagedChannel channel;

  private FakeHookguard(Server server, ManagedChannel channel) {
    this.server = server;
    this.channel = channel;
  }

  static FakeHookguard start(Function<AuthorizeWebhookRequest, Object> answer) throws IOException {
    String name = InProcessServerBuilder.generateName();
    // Not directExecutor(): a slow answer must not block the caller's thread
    // (the deadline test; grpc-java before 1.40 ran it there).
    Server server = InProcessServerBuilder.forName(name)
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
    return new FakeHookguard(server, InProcessChannelBuilder.forName(name).build());
  }

  @Override
  public void close() {
    channel.shutdownNow();
    server.shutdownNow();
  }
}
