package dev.hookguard.client;

import dev.hookguard.v1.Decision;
import dev.hookguard.v1.DenyReason;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Keeps a delivery that was denied, or that shadow mode would have denied, for {@code hookguard
 * explain --capture=FILE}: one JSON file (format {@value #FORMAT}) per delivery, written with mode
 * 0600, atomically (a temporary file renamed into place).
 *
 * <pre>{@code
 * Verdict v = guard.authorizeWebhook(rawBody, headers, "vapi", "");
 * if (Capture.shouldCapture(v)) {
 *   try {
 *     Capture.write(captureDir, rawBody, headers, v, "vapi", "POST", url, "");
 *   } catch (IOException e) { log(e); }  // never change the answer because of it
 * }
 * }</pre>
 *
 * <p>A capture file holds the signature headers and the body: secrets-bearing data.
 */
public final class Capture {
  /** The "format" of every capture file. */
  public static final String FORMAT = "hookguard-capture/v1";

  private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");
  private static final DateTimeFormatter NAME_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final SecureRandom RANDOM = new SecureRandom();

  private Capture() {}

  /** True for a DENY and for a shadow-mode ALLOW that enforcement would deny. */
  public static boolean shouldCapture(Verdict v) {
    return v.decision() == Decision.DECISION_DENY || v.shadowDeny();
  }

  /** The capture file's JSON text (keys in the format's order). */
  public static String record(byte[] body, Map<String, String> headers, Verdict v, String profile,
      String method, String url, String expectedOwnerId, Instant now) {
    Map<String, String> lowered = new TreeMap<>();
    if (headers != null) {
      headers.forEach((k, val) -> lowered.merge(k.toLowerCase(Locale.ROOT), val,
          (a, b) -> a + ", " + b));
    }
    DenyReason reason = v.decision() == Decision.DECISION_DENY ? v.reason() : v.shadowReason();
    StringBuilder out = new StringBuilder("{\n");
    field(out, "format", FORMAT);
    field(out, "captured_at", now.truncatedTo(ChronoUnit.SECONDS).toString());
    field(out, "profile", profile);
    field(out, "method", method);
    field(out, "url", url);
    out.append(" \"headers\": {");
    boolean first = true;
    for (Map.Entry<String, String> e : lowered.entrySet()) {
      out.append(first ? "" : ", ").append(quote(e.getKey())).append(": ")
          .append(quote(e.getValue()));
      first = false;
    }
    out.append("},\n");
    field(out, "body_base64", java.util.Base64.getEncoder().encodeToString(
        body == null ? new byte[0] : body));
    field(out, "expected_owner_id", expectedOwnerId);
    field(out, "decision", v.decision().name());
    field(out, "shadow_decision", v.shadowDecision().name());
    field(out, "reason", reason.name());
    out.append(" \"http_status\": ").append(v.httpStatus()).append(",\n");
    out.append(" \"decision_id\": ").append(quote(v.decisionId())).append("\n}\n");
    return out.toString();
  }

  /**
   * Writes the capture into {@code dir} (created if missing) as {@code
   * <yyyyMMddTHHmmssZ>-<decision id or random>.json}, mode 0600, atomically.
   *
   * @return the file's path
   */
  public static Path write(Path dir, byte[] body, Map<String, String> headers, Verdict v,
      String profile, String method, String url, String expectedOwnerId) throws IOException {
    Instant now = Instant.now();
    String text = record(body, headers, v, profile, method, url, expectedOwnerId, now);
    Files.createDirectories(dir);
    String id = SAFE_ID.matcher(v.decisionId()).matches() ? v.decisionId() : randomHex(8);
    Path file = dir.resolve(NAME_TIME.format(now) + "-" + id + ".json");
    if (Files.exists(file)) {
      file = dir.resolve(NAME_TIME.format(now) + "-" + id + "-" + randomHex(4) + ".json");
    }
    Path tmp = Files.createTempFile(dir, ".capture-", ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.write(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
        ch.force(true);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
    return file;
  }

  private static String randomHex(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static void field(StringBuilder out, String key, String value) {
    out.append(' ').append(quote(key)).append(": ").append(quote(value == null ? "" : value))
        .append(",\n");
  }

  /** A JSON string literal. */
  static String quote(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
      }
    }
    return out.append('"').toString();
  }
}
