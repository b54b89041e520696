package io.pbj.samples.chat;

import io.pbj.Referenceable;
import io.pbj.Remote;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A logged-in chat user: the avatar a {@link ChatServer} realm hands out.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class ChatUser implements Referenceable {
  private final String name;
  private final ChatServer.Rooms rooms;
  private final Set<ChatRoom> joined = ConcurrentHashMap.newKeySet();

  ChatUser(String name, ChatServer.Rooms rooms) {
    this.name = name;
    this.rooms = rooms;
  }

  /** Joins {@code room} (creating it if needed) and returns it; it arrives as a RoomCache. */
  @Remote
  public ChatRoom join(String room) {
    ChatRoom r = rooms.get(room);
    r.join(name);
    joined.add(r);
    return r;
  }

  /** Says {@code text} in {@code room}, which this user must have joined. */
  @Remote
  public void say(String room, String text) {
    ChatRoom r = rooms.get(room);
    if (!joined.contains(r)) {
      throw new IllegalStateException(name + " has not joined " + room);
    }
    r.say(name, text);
  }

  void logout() {
    for (ChatRoom r : joined) {
      r.leave(name);
    }
    joined.clear();
  }
}
