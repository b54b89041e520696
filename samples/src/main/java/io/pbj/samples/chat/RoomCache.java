package io.pbj.samples.chat;

import io.pbj.Remote;
import io.pbj.RemoteCache;
import io.pbj.samples.chat.ChatModel.ChatMessage;
import io.pbj.samples.chat.ChatModel.RoomState;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A chat room on the client: the replica of a {@link ChatRoom}, kept current by its pushes.
 *
 * <p>Thread-safety: updated on the client's executor, one change at a time; readers on other
 * threads get consistent snapshots from {@link #messages()} and {@link #members()}.
 */
public final class RoomCache extends RemoteCache implements RoomUpdates {
  private final List<Consumer<RoomCache>> listeners = new CopyOnWriteArrayList<>();
  private String name;
  private final Set<String> members = new LinkedHashSet<>();
  private final List<ChatMessage> messages = new ArrayList<>();

  @Override
  protected void setState(Object state) {
    RoomState room = (RoomState) state;
    synchronized (this) {
      name = room.name();
      members.clear();
      members.addAll(room.members());
      messages.clear();
      messages.addAll(room.messages());
    }
    changed();
  }

  @Override
  @Remote
  public void joined(String user) {
    synchronized (this) {
      members.add(user);
    }
    changed();
  }

  @Override
  @Remote
  public void left(String user) {
    synchronized (this) {
      members.remove(user);
    }
    changed();
  }

  @Override
  @Remote
  public void said(ChatMessage message) {
    synchronized (this) {
      messages.add(message);
    }
    changed();
  }

  public synchronized String name() {
    return name;
  }

  public synchronized List<ChatMessage> messages() {
    return List.copyOf(messages);
  }

  public synchronized List<String> members() {
    return List.copyOf(members);
  }

  /** Runs {@code listener} after every change, on the client's executor. */
  public void onChange(Consumer<RoomCache> listener) {
    listeners.add(listener);
  }

  private void changed() {
    for (Consumer<RoomCache> l : listeners) {
      l.accept(this);
    }
  }
}
