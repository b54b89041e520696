package io.pbj.publish;

import io.pbj.publish.internal.Delegation;
import io.pbj.publish.internal.ServerProof;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The result of {@link PublishedClient#attach}: every object of the service, activated, and what
 * the activation cost.
 *
 * <pre>{@code
 * Attachment world = client.attach(endpoint, "world").join();
 * TileCache tile = world.get("tile-0-0", TileCache.class);
 * log.info("{} hits, {} fetched, {} extra calls", world.hits(), world.fetched(), world.extraCalls());
 * }</pre>
 *
 * <p>Thread-safety: immutable (the objects themselves are thread-safe).
 */
public final class Attachment {
  private final String serverId;
  private final String service;
  private final String perspectiveKey;
  private final Map<String, RemotePublished> objects;
  private final int hits;
  private final int inlined;
  private final int fetched;
  private final int extraCalls;
  private final ServerProof proof;
  private final Delegation granted;

  Attachment(
      String serverId,
      String service,
      String perspectiveKey,
      List<RemotePublished> objects,
      int hits,
      int inlined,
      int fetched,
      int extraCalls,
      ServerProof proof,
      Delegation granted) {
    this.serverId = serverId;
    this.service = service;
    this.perspectiveKey = perspectiveKey;
    Map<String, RemotePublished> m = new LinkedHashMap<>(objects.size() * 2);
    for (RemotePublished r : objects) {
      m.put(r.identity(), r);
    }
    this.objects = Collections.unmodifiableMap(m);
    this.hits = hits;
    this.inlined = inlined;
    this.fetched = fetched;
    this.extraCalls = extraCalls;
    this.proof = proof;
    this.granted = granted;
  }

  /** The origin server's id, as the server gave it. */
  public String serverId() {
    return serverId;
  }

  /**
   * Whether the server proved {@link #serverId()} in this attach (false only for an id accepted
   * without proof by {@link PublishedClient.Builder#allowUnprovenServerIds}).
   */
  public boolean proven() {
    return proof != null;
  }

  /** The verified proof of the server id, or null if it was not proven (for relays). */
  ServerProof proof() {
    return proof;
  }

  /** The delegation the server granted to this client's relay key, or null (for relays). */
  Delegation granted() {
    return granted;
  }

  /** The service name. */
  public String service() {
    return service;
  }

  /** The perspective key the server named for this connection. */
  public String perspectiveKey() {
    return perspectiveKey;
  }

  /** The activated objects by identity, in the server's order. */
  public Map<String, RemotePublished> objects() {
    return objects;
  }

  /** The object with {@code identity}, cast to {@code type}; null if absent. */
  public <T extends RemotePublished> T get(String identity, Class<T> type) {
    return type.cast(objects.get(identity));
  }

  /** Objects activated from the local store. */
  public int hits() {
    return hits;
  }

  /** Objects whose state came inline in the attach answer. */
  public int inlined() {
    return inlined;
  }

  /** Objects whose state came from the batched fetch. */
  public int fetched() {
    return fetched;
  }

  /** Calls made after the attach call: 0 or 1. */
  public int extraCalls() {
    return extraCalls;
  }

  @Override
  public String toString() {
    return "Attachment[" + serverId + (proven() ? "" : " (unproven)") + "/" + service + "/"
        + perspectiveKey + ": "
        + objects.size() + " objects, " + hits + " hits, " + inlined + " inlined, " + fetched
        + " fetched, " + extraCalls + " extra calls]";
  }
}
