package io.pbj.cluster;

import com.hazelcast.core.HazelcastInstance;
import io.pbj.PbRegistry;
import io.pbj.publish.Publishable;
import io.pbj.publish.PublishingService;
import io.pbj.publish.ServerKey;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One member of an origin cluster: a {@link PublishingService} whose objects, versions and states
 * live in a Hazelcast map shared by every member, all serving under one proven server id.
 *
 * <p>SKELETON: the API the cluster module offers; the implementation follows.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class ClusterPublishing implements AutoCloseable {
  /**
   * Makes the local object of a member for a state of the cluster map: a {@link Publishable} of
   * the class registered for the state's kind, implementing {@link ClusterObject}.
   */
  @FunctionalInterface
  public interface ObjectFactory {
    /** A new local object for {@code identity} at {@code version} holding {@code state}. */
    Publishable create(String identity, long version, Object state);
  }

  /** A {@link Publishable} whose state the cluster sets before republishing it. */
  public interface ClusterObject {
    /**
     * Replaces the state (called with the object's lock held, right before the cluster
     * republishes it whole or as a delta at the cluster's version).
     */
    void takeClusterState(Object state);
  }

  private ClusterPublishing() {}

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** This member's local service: make its endpoint the server's root, as with one origin. */
  public PublishingService service() {
    throw new UnsupportedOperationException();
  }

  /** The cluster's proven server id: the same on every member. */
  public String serverId() {
    throw new UnsupportedOperationException();
  }

  /** Publishes {@code state} under {@code identity}, or replaces its state whole. */
  public void publish(String identity, Object state) {
    throw new UnsupportedOperationException();
  }

  /** Publishes or replaces many states at once. */
  public void publishAll(Map<String, ?> states) {
    throw new UnsupportedOperationException();
  }

  /**
   * Replaces the state of {@code identity} by {@code newState}, which the delta {@code
   * method(args)} makes of the old one: observers holding the old version get the delta.
   */
  public void delta(String identity, Object newState, String method, Object... args) {
    throw new UnsupportedOperationException();
  }

  /** Unpublishes {@code identity} on every member; false if it was not published. */
  public boolean unpublish(String identity) {
    throw new UnsupportedOperationException();
  }

  /** The cluster's current state of {@code identity}. */
  public Optional<Object> state(String identity) {
    throw new UnsupportedOperationException();
  }

  /** Number of objects the cluster publishes. */
  public int size() {
    throw new UnsupportedOperationException();
  }

  /** Tells the cluster where clients reach this member ({@code host:port}). */
  public void advertise(String host, int port) {
    throw new UnsupportedOperationException();
  }

  /** The addresses ({@code host:port}) of the live members that advertised one. */
  public List<String> members() {
    throw new UnsupportedOperationException();
  }

  /** Leaves: stops following the map and withdraws this member's address. */
  @Override
  public void close() {
    throw new UnsupportedOperationException();
  }

  /** Builds a {@link ClusterPublishing}. Thread-safety: not thread-safe; use on one thread. */
  public static final class Builder {
    private Builder() {}

    /** The Hazelcast member this origin member runs in (the caller's: never shut down here). */
    public Builder hazelcast(HazelcastInstance hazelcast) {
      throw new UnsupportedOperationException();
    }

    /** The registry whose codec encodes states and delta arguments in the map. */
    public Builder registry(PbRegistry registry) {
      throw new UnsupportedOperationException();
    }

    /** The cluster's key: the same on every member, so every member proves the same id. */
    public Builder serverKey(ServerKey key) {
      throw new UnsupportedOperationException();
    }

    /** The service name. */
    public Builder service(String name) {
      throw new UnsupportedOperationException();
    }

    /** Makes local objects for the map's states. */
    public Builder objects(ObjectFactory factory) {
      throw new UnsupportedOperationException();
    }

    /** More options for the local {@link PublishingService} (perspective keys, relays). */
    public Builder configure(Consumer<PublishingService.Builder> options) {
      throw new UnsupportedOperationException();
    }

    /** Joins the cluster's map and loads what it holds. */
    public ClusterPublishing build() {
      throw new UnsupportedOperationException();
    }
  }
}
