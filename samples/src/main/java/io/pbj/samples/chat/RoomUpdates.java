package io.pbj.samples.chat;

import io.pbj.samples.chat.ChatModel.ChatMessage;

/**
 * The updates a {@link ChatRoom} pushes and a {@link RoomCache} applies: the room pushes through
 * this interface ({@code ObserverSet<RoomUpdates>}) and the cache implements it, so a misspelled
 * update does not compile, and a cache class that lost one is refused when the room is first sent.
 *
 * <p>Thread-safety: an interface; see its implementations.
 */
public interface RoomUpdates {
  /** {@code user} joined the room. */
  void joined(String user);

  /** {@code user} left the room. */
  void left(String user);

  /** Someone said {@code message}. */
  void said(ChatMessage message);
}
