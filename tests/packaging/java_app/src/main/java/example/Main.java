package example;

import dev.hookguard.client.Verdict;
import dev.hookguard.client.WebhookGuard;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Main TARGET (BODY SIGNATURE)...: asks hookguard about each webhook and prints one line per
 * webhook: its HTTP status, the owner, and whether a decision id came back.
 */
public final class Main {
  public static void main(String[] args) throws Exception {
    try (WebhookGuard guard = WebhookGuard.newBuilder(args[0]).build()) {
      for (int i = 1; i + 1 < args.length; i += 2) {
        Map<String, String> headers = new HashMap<>();
        headers.put("x-vapi-signature", args[i + 1]);
        headers.put("content-type", "application/json");
        Verdict v = guard.authorizeWebhook(args[i].getBytes(StandardCharsets.UTF_8), headers);
        System.out.println(v.httpStatus() + " owner=" + v.ownerId() + " decision_id="
            + !v.decisionId().isEmpty());
      }
    }
  }
}
