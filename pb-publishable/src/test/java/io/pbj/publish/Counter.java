package io.pbj.publish;

/** A published counter whose state is a registered record ({@link Counter.State}). */
final class Counter extends Publishable {
  /** The typed state: registered on both sides. */
  public record State(String name, int count) {}

  private String name;
  private int count;

  Counter(String id, String name) {
    super(id);
    this.name = name;
  }

  @Override
  protected synchronized State publishedState(Object perspective) {
    return new State(name, count);
  }

  /** Adds {@code n} and pushes it as a delta ({@link RemoteCounter#add}). */
  synchronized void add(int n) {
    count += n;
    republishDelta("add", n);
  }

  /** Renames it and pushes the whole state. */
  synchronized void rename(String newName) {
    name = newName;
    republish();
  }

  synchronized State state() {
    return new State(name, count);
  }
}
