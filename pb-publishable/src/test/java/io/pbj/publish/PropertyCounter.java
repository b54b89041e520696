package io.pbj.publish;

import java.util.function.ToLongFunction;

/**
 * A published object of {@link PublishingRun} whose state is a registered record ({@link State}):
 * renamed whole, or counted up by an {@code add} delta ({@link RemotePropertyCounter#add}).
 * Versions as {@link PropertyTile}'s.
 */
final class PropertyCounter extends Publishable implements PropertyObject {
  /** The typed state, registered on both sides. */
  public record State(String name, int count) {}

  private String name;
  private int count;

  PropertyCounter(String id, String name, int count, long version) {
    super(id, version);
    this.name = name;
    this.count = count;
  }

  PropertyCounter(String id, String name, int count) {
    super(id);
    this.name = name;
    this.count = count;
  }

  @Override
  protected synchronized State publishedState(Object perspective) {
    return new State(name, count);
  }

  @Override
  public synchronized String text() {
    return textOf(new State(name, count));
  }

  static String textOf(State s) {
    return "c:" + s.name() + ":" + s.count();
  }

  synchronized void set(String newName, ToLongFunction<String> contentVersion) {
    name = newName;
    if (contentVersion == null) {
      republish();
    } else {
      republish(contentVersion.applyAsLong(text()));
    }
  }

  synchronized void add(int n, ToLongFunction<String> contentVersion) {
    count += n;
    if (contentVersion == null) {
      republishDelta("add", n);
    } else {
      republishDelta(contentVersion.applyAsLong(text()), "add", n);
    }
  }

  synchronized State state() {
    return new State(name, count);
  }
}
