package io.pbj.samples.chat;

import io.pbj.PbRegistry;
import java.util.List;

/**
 * The chat sample's shared vocabulary: values that cross the wire and the registry both sides
 * use.
 *
 * <p>Thread-safety: immutable values.
 */
public final class ChatModel {
  private ChatModel() {}

  /** One line said in a room. */
  public record ChatMessage(String from, String text) {}

  /** What a joining client receives: the room's members and its recent messages. */
  public record RoomState(String name, List<String> members, List<ChatMessage> messages) {}

  /** The registry of the chat sample, identical on server and client. */
  public static PbRegistry registry() {
    return PbRegistry.builder()
        .register("chat.ChatMessage", ChatMessage.class)
        .register("chat.RoomState", RoomState.class)
        .registerCache("chat.Room", ChatRoom.class, RoomCache.class)
        .build();
  }
}
