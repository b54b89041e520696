package io.pbj.publish;

import io.pbj.PbConnection;
import io.pbj.Referenceable;
import io.pbj.Remote;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's receiver of one live attachment's announcements, sent with the attach call: the
 * server calls {@value #PUBLISHED} with objects published since, {@value #UNPUBLISHED} with
 * identities withdrawn and {@value #DROPPED} with identities the attachment dropped. Every
 * announcement and every interest change of the attachment runs as one step of a chain, in
 * arrival order, after the attach itself completed; announcements that arrive before are held by
 * the chain.
 *
 * <p>Thread-safety: thread-safe; the chain is extended under a lock, and its steps run one after
 * another.
 */
final class Announcements implements Referenceable {
  static final String PUBLISHED = "published";
  static final String UNPUBLISHED = "unpublished";
  static final String DROPPED = "dropped";

  private static final Logger log = LoggerFactory.getLogger(Announcements.class);

  /**
   * Steps that may wait in the chain: a server announcing faster than this client activates
   * beyond this loses the connection rather than this client's memory.
   */
  static final int MAX_WAITING_STEPS = 4096;

  /**
   * What the waiting steps may hold, estimated from what they carry (identities, states): the
   * count alone would let a server park thousands of large messages in this client's memory.
   */
  static final long MAX_WAITING_BYTES = 64L << 20;

  private final Object lock = new Object();
  private final CompletableFuture<Attachment> attached = new CompletableFuture<>();
  private final PbConnection connection;
  private final AtomicInteger waiting = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicLong waitingBytes =
      new java.util.concurrent.atomic.AtomicLong();
  private CompletableFuture<Attachment> tail = attached;

  Announcements(PbConnection connection) {
    this.connection = connection;
  }

  /** Objects published since the attach (each already carries its state). */
  @Remote(PUBLISHED)
  public void published(List<Object> objects) {
    if (objects == null) {
      return;
    }
    long weight = 0;
    for (Object o : objects) {
      weight += 64;
      if (o instanceof RemotePublished r && r.received() != null
          && r.received().state() instanceof byte[] b) {
        weight += b.length;
      } else {
        weight += 256;    // a registered value: its decoded size is not known here
      }
    }
    then(weight, a -> a.announcedPublished(objects)).whenComplete((v, failure) -> {
      if (failure != null) {
        Activation.failAll(objects, new PublishException(
            io.pbj.PbException.Code.ACTIVATION_FAILED,
            "published objects could not join their attachment: " + failure, failure));
      }
    });
  }

  /** Identities the server no longer publishes. */
  @Remote(UNPUBLISHED)
  public void unpublished(String[] identities) {
    if (identities == null) {
      return;
    }
    then(weightOf(identities), a -> a.announcedUnpublished(identities));
  }

  /**
   * Identities the attachment dropped ({@link Attachment#drop}) that the server announces no more:
   * told after every announcement the server wrote before the drop and before every one after it.
   */
  @Remote(DROPPED)
  public void dropped(String[] identities) {
    if (identities == null) {
      return;
    }
    then(weightOf(identities), a -> a.announcedDropped(identities));
  }

  /** About what {@code identities} hold while their step waits. */
  private static long weightOf(String[] identities) {
    long weight = 16L * identities.length;
    for (String id : identities) {
      weight += id == null ? 0 : 40L + 2L * id.length();
    }
    return weight;
  }

  void attached(Attachment attachment) {
    attachment.announcements(this);
    attached.complete(attachment);
  }

  void failed(Throwable cause) {
    attached.completeExceptionally(cause);
  }

  /**
   * Runs {@code step} after every step before it; its failure is logged and the chain goes on.
   * The result completes with the step's.
   */
  <T> CompletableFuture<T> then(Function<Attachment, CompletableFuture<T>> step) {
    return then(0, step);
  }

  /** {@link #then(Function)} for a step that holds about {@code weight} bytes while it waits. */
  private <T> CompletableFuture<T> then(
      long weight, Function<Attachment, CompletableFuture<T>> step) {
    CompletableFuture<T> out = new CompletableFuture<>();
    int steps = waiting.incrementAndGet();
    long bytes = waitingBytes.addAndGet(weight);
    if (steps > MAX_WAITING_STEPS || bytes > MAX_WAITING_BYTES) {
      waiting.decrementAndGet();
      waitingBytes.addAndGet(-weight);
      PublishException e = new PublishException(io.pbj.PbException.Code.LIMIT_EXCEEDED,
          "the server announced more than this client had applied (" + steps + " steps, about "
              + bytes + " bytes waiting; at most " + MAX_WAITING_STEPS + " and "
              + MAX_WAITING_BYTES + "); closing the connection");
      log.warn("{}: {}", connection, e.getMessage());
      connection.close();
      out.completeExceptionally(e);
      return out;
    }
    out.whenComplete((v, t) -> {
      waiting.decrementAndGet();
      waitingBytes.addAndGet(-weight);
    });
    synchronized (lock) {
      tail = tail.thenCompose(a -> {
        CompletableFuture<T> f;
        try {
          f = step.apply(a);
        } catch (RuntimeException e) {
          f = CompletableFuture.failedFuture(e);
        }
        return f.handle((v, t) -> {
          if (t != null) {
            log.debug("{}/{}: a step of the live attachment failed: {}", a.serverId(),
                a.service(), t.toString());
            out.completeExceptionally(t);
          } else {
            out.complete(v);
          }
          return a;
        });
      });
      tail.whenComplete((a, t) -> {
        if (t != null) {
          out.completeExceptionally(t);    // the attach failed: nothing runs
        }
      });
    }
    return out;
  }
}
