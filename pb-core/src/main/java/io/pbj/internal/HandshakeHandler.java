package io.pbj.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Sends this side's HELLO as the first message (the protocol versions it speaks, and the wire name
 * and format fingerprint of every registered type) and checks the peer's:
 *
 * <ul>
 *   <li>the protocol version is the highest both speak; ranges that do not overlap fail the
 *       connection with {@link PbException.Code#PROTOCOL_ERROR}, naming both ranges;
 *   <li>an id below {@link PbRegistry#FIRST_NAMED_ID} (built-in, or registered by position) that
 *       both sides list must carry the same name, else the connection fails with {@link
 *       PbException.Code#REGISTRY_MISMATCH} naming the id and both names;
 *   <li>every other difference (a type one side lacks, a named id the sides use for different
 *       names, a type whose shape differs) is left to the values: {@link PeerRegistry} refuses a
 *       value of such a type, naming it, and the connection goes on.
 * </ul>
 *
 * <p>On success it removes itself and tells the connection. A GOODBYE in place of the peer's HELLO
 * (a server refusing the connection) fails it with {@link PbException.Code#CONNECT_FAILED} and the
 * reason.
 *
 * <p>Thread-safety: per channel, used on its event loop only.
 */
final class HandshakeHandler extends ChannelInboundHandlerAdapter {
  /** The HELLO of each registry in this build's version range, made once per registry. */
  private static final Map<PbRegistry, Message.Hello> HELLOS =
      Collections.synchronizedMap(new WeakHashMap<>());

  private final PbRegistry registry;
  private final Connection connection;
  /** Mismatches a REGISTRY_MISMATCH names one by one; the rest are counted. */
  private static final int MAX_NAMED_MISMATCHES = 10;

  private final int minVersion;
  private final int maxVersion;

  HandshakeHandler(PbRegistry registry, Connection connection, int minVersion, int maxVersion) {
    this.registry = registry;
    this.connection = connection;
    this.minVersion = minVersion;
    this.maxVersion = maxVersion;
  }

  private Message.Hello hello() {
    if (minVersion == Wire.MIN_PROTOCOL_VERSION && maxVersion == Wire.PROTOCOL_VERSION) {
      return HELLOS.computeIfAbsent(
          registry, r -> KryoSetup.hello(r, Wire.MIN_PROTOCOL_VERSION, Wire.PROTOCOL_VERSION));
    }
    return KryoSetup.hello(registry, minVersion, maxVersion);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.writeAndFlush(connection.encode(hello()));
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Message message = ((MessageCodec.Inbound) msg).message();
    if (message instanceof Message.Goodbye goodbye) {
      // a server over its connection cap (or past a deadline) says why instead of HELLO
      throw new PbException(
          PbException.Code.CONNECT_FAILED,
          ctx.channel().remoteAddress() + " refused the connection: " + goodbye.reason());
    }
    if (!(message instanceof Message.Hello hello)) {
      throw new PbException(
          PbException.Code.PROTOCOL_ERROR,
          "expected the registry handshake, got " + message.getClass().getSimpleName());
    }
    int version = negotiate(hello);
    Message.Hello ours = hello();
    Map<Integer, String> ourNames = new HashMap<>();
    Map<Integer, Integer> ourFormats = new HashMap<>();
    for (int i = 0; i < ours.ids().size(); i++) {
      ourNames.put(ours.ids().get(i), ours.classNames().get(i));
      ourFormats.put(ours.ids().get(i), ours.formats().get(i));
    }
    List<String> mismatches = new ArrayList<>();
    int mismatched = 0;
    Map<Integer, String> theirNames = new HashMap<>();
    Map<Integer, Integer> theirFormats = new HashMap<>();
    for (int i = 0; i < hello.ids().size(); i++) {
      int id = hello.ids().get(i);
      String theirs = hello.classNames().get(i);
      theirNames.put(id, theirs);
      theirFormats.put(id, hello.formats().get(i));
      String name = ourNames.get(id);
      if (id < PbRegistry.FIRST_NAMED_ID && name != null && !name.equals(theirs)) {
        mismatched++; // a hostile HELLO may repeat an id: the message names the first few
        if (mismatches.size() < MAX_NAMED_MISMATCHES) {
          mismatches.add("id " + id + " is " + name + " here but " + theirs + " on the peer");
        }
      }
    }
    if (!mismatches.isEmpty()) {
      throw new PbException(
          PbException.Code.REGISTRY_MISMATCH,
          "class registries disagree: " + String.join("; ", mismatches)
              + (mismatched > mismatches.size()
                  ? " (and " + (mismatched - mismatches.size()) + " more)" : "")
              + " (register the same classes in the same order on both sides, or register"
              + " them by name)");
    }
    ourNames.keySet().removeIf(id -> id < PbRegistry.FIRST_USER_ID);
    theirNames.keySet().removeIf(id -> id < PbRegistry.FIRST_USER_ID);
    connection.peer().learned(version, ourNames, ourFormats, theirNames, theirFormats);
    ctx.pipeline().remove(this);
    connection.handshakeDone();
  }

  /** The highest version both sides speak; fails naming both ranges when there is none. */
  private int negotiate(Message.Hello hello) {
    int theirMin = hello.minVersion();
    int theirMax = hello.maxVersion();
    if (theirMin < 1 || theirMax < theirMin) {
      throw new PbException(
          PbException.Code.PROTOCOL_ERROR,
          "the peer's HELLO claims protocol versions " + theirMin + " to " + theirMax
              + ", which is no range");
    }
    int version = Math.min(maxVersion, theirMax);
    if (version < Math.max(minVersion, theirMin)) {
      throw new PbException(
          PbException.Code.PROTOCOL_ERROR,
          "no protocol version in common: this side speaks versions " + minVersion + " to "
              + maxVersion + ", the peer " + theirMin + " to " + theirMax
              + " (upgrade the older side; see docs/COMPATIBILITY.md)");
    }
    return version;
  }
}
