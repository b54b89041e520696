package io.pbj.cluster;

import io.pbj.publish.Publishable;

/** A member's local object for a {@link Count} state of the cluster map. */
final class ClusterCounter extends Publishable implements ClusterPublishing.ClusterObject {
  private Count state;

  ClusterCounter(String identity, long version, Count state) {
    super(identity, version);
    this.state = state;
  }

  @Override
  protected synchronized Object publishedState(Object perspective) {
    return state;
  }

  @Override
  public synchronized void takeClusterState(Object newState) {
    state = (Count) newState;
  }

  synchronized Count count() {
    return state;
  }
}
