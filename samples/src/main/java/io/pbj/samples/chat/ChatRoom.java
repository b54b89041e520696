package io.pbj.samples.chat;

import io.pbj.Cacheable;
import io.pbj.ObserverSet;
import io.pbj.RemoteObserver;
import io.pbj.samples.chat.ChatModel.ChatMessage;
import io.pbj.samples.chat.ChatModel.RoomState;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A chat room on the server: a Cacheable whose state is its members and its most recent
 * messages; every change is pushed to every client observing it.
 *
 * <p>Thread-safety: thread-safe; changes and pushes happen under the room's lock, so every
 * observer sees them in the same order.
 */
public final class ChatRoom implements Cacheable {
  static final int RECENT = 100;

  private final String name;
  private final Set<String> members = new LinkedHashSet<>();
  private final Deque<ChatMessage> recent = new ArrayDeque<>();
  private final ObserverSet<RoomUpdates> observers = ObserverSet.of(RoomUpdates.class);

  public ChatRoom(String name) {
    this.name = name;
  }

  public String name() {
    return name;
  }

  @Override
  public synchronized Object stateFor(Object perspective, RemoteObserver observer) {
    observers.add(observer);
    return new RoomState(name, List.copyOf(members), List.copyOf(new ArrayList<>(recent)));
  }

  @Override
  public void stoppedObserving(Object perspective, RemoteObserver observer) {
    observers.remove(observer);
  }

  synchronized void join(String user) {
    if (members.add(user)) {
      observers.all().joined(user);
    }
  }

  synchronized void leave(String user) {
    if (members.remove(user)) {
      observers.all().left(user);
    }
  }

  synchronized void say(String user, String text) {
    ChatMessage message = new ChatMessage(user, text);
    recent.addLast(message);
    if (recent.size() > RECENT) {
      recent.removeFirst();
    }
    observers.all().said(message);
  }
}
