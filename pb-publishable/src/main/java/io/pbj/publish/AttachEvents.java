package io.pbj.publish;

import io.pbj.PbException;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one hook on an attach: reports its end to the {@link AttachListener} and to JFR. With no
 * listener and no recording it adds nothing to the attach.
 *
 * <p>Thread-safety: immutable; safe from any thread.
 */
final class AttachEvents {
  private static final Logger log = LoggerFactory.getLogger(AttachEvents.class);

  /** Only asked whether the event is enabled, which does not depend on the instance. */
  private static final AttachEvent PROBE = new AttachEvent();

  private final AttachListener listener;

  AttachEvents(AttachListener listener) {
    this.listener = listener;
  }

  /** Watches the attach to {@code service} that {@code attach} starts; returns its future. */
  CompletableFuture<Attachment> watch(
      String service, java.util.function.Supplier<CompletableFuture<Attachment>> attach) {
    if (listener == null && !PROBE.isEnabled()) {
      return attach.get();
    }
    AttachEvent event = new AttachEvent();
    event.begin();
    long start = System.nanoTime();
    CompletableFuture<Attachment> f = attach.get();
    f.whenComplete(
        (a, t) -> {
          long nanos = System.nanoTime() - start;
          Throwable failure = t == null ? null : PbException.unwrap(t);
          record(event, service, a, failure);
          if (listener != null) {
            try {
              if (failure == null) {
                listener.attached(a, nanos);
              } else {
                listener.attachFailed(service, failure, nanos);
              }
            } catch (RuntimeException e) {
              log.warn("attach listener {} failed", listener, e);
            }
          }
        });
    return f;
  }

  private static void record(AttachEvent event, String service, Attachment a, Throwable failure) {
    event.end();
    if (!event.shouldCommit()) {
      return;
    }
    event.service = service;
    if (a != null) {
      event.serverId = a.serverId();
      event.objects = a.objects().size();
      event.hits = a.hits();
      event.inlined = a.inlined();
      event.fetched = a.fetched();
      event.removed = a.removed();
    }
    event.outcome =
        failure == null
            ? "OK"
            : failure instanceof PbException pb ? pb.code().name() : failure.getClass().getName();
    event.failure = failure == null ? null : failure.getMessage();
    event.commit();
  }
}
