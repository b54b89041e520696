package io.pbj.micrometer;

import io.pbj.Cacheable;
import io.pbj.PbRegistry;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.RemoteCache;
import io.pbj.RemoteObserver;
import io.pbj.publish.Publishable;
import io.pbj.publish.Publishing;
import io.pbj.publish.RemotePublished;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** What the metrics tests serve: a root, a Cacheable board, a published note. */
final class Fixtures {
  private Fixtures() {}

  static PbRegistry registry() {
    return Publishing.register(PbRegistry.builder())
        .registerCache(Board.class, BoardCache.class)
        .registerCache(Note.class, NoteCache.class)
        .build();
  }

  /** The server root. */
  static final class Root implements Referenceable {
    final Board board = new Board();

    @Remote
    public int add(int a, int b) {
      return a + b;
    }

    @Remote
    public String fail(String message) {
      throw new IllegalStateException(message);
    }

    @Remote
    public byte[] echo(byte[] data) {
      return data;
    }

    @Remote
    public Board board() {
      return board;
    }

    @Remote
    public void post(String line) {
      board.post(line);
    }
  }

  /** A replicated list of lines: the server side. */
  static final class Board implements Cacheable {
    final List<String> lines = new CopyOnWriteArrayList<>();
    final Set<RemoteObserver> observers = ConcurrentHashMap.newKeySet();

    @Override
    public synchronized Object stateFor(Object perspective, RemoteObserver observer) {
      observers.add(observer);
      return new ArrayList<>(lines);
    }

    @Override
    public void stoppedObserving(Object perspective, RemoteObserver observer) {
      observers.remove(observer);
    }

    synchronized void post(String line) {
      lines.add(line);
      for (RemoteObserver o : observers) {
        o.callRemote("posted", line);
      }
    }
  }

  /** A replicated list of lines: the client side. */
  public static final class BoardCache extends RemoteCache {
    final List<String> lines = new CopyOnWriteArrayList<>();

    @Override
    @SuppressWarnings("unchecked")
    protected void setState(Object state) {
      lines.clear();
      lines.addAll((List<String>) state);
    }

    @Remote
    public void posted(String line) {
      lines.add(line);
    }
  }

  /** A published note. */
  static final class Note extends Publishable {
    private final String text;

    Note(String id, String text) {
      super(id, 1);
      this.text = text;
    }

    @Override
    protected byte[] publishedState(Object perspective) {
      return text.getBytes(StandardCharsets.UTF_8);
    }
  }

  /** The client side of {@link Note}. */
  public static final class NoteCache extends RemotePublished {
    volatile String text;

    @Override
    protected void applyPublishedState(byte[] state, int formatVersion) {
      text = new String(state, StandardCharsets.UTF_8);
    }

    @Override
    protected byte[] encodedState() {
      return text.getBytes(StandardCharsets.UTF_8);
    }
  }
}
