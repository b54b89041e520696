package io.pbj.cluster;

import io.pbj.Remote;
import io.pbj.publish.RemoteValue;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** The client side of {@link ClusterCounter}; keeps the versions it held, in order. */
public final class RemoteClusterCounter extends RemoteValue<Count> {
  final AtomicInteger deltas = new AtomicInteger();
  final List<Long> versions = new CopyOnWriteArrayList<>();

  public RemoteClusterCounter() {
    onActivated(r -> versions.add(r.version()));
    onUpdate(r -> versions.add(r.version()));
  }

  /** The delta {@code "add"}: counts up by {@code n}. */
  @Remote
  public void add(int n) {
    deltas.incrementAndGet();
    update(new Count(value().name(), value().count() + n));
  }
}
