package dev.hookguard.client;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** The lines the client logs on "dev.hookguard.client" while open (parameters filled in). */
final class ClientLog extends Handler implements AutoCloseable {
  final List<String> lines = new ArrayList<>();

  ClientLog() {
    Logger.getLogger("dev.hookguard.client").addHandler(this);
  }

  @Override
  public void publish(LogRecord r) {
    lines.add(java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    Logger.getLogger("dev.hookguard.client").removeHandler(this);
  }
}
