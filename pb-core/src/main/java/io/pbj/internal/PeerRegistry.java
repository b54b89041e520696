package io.pbj.internal;

import io.pbj.PbException;
import io.pbj.PbException.Code;
import io.pbj.PbRegistry;
import java.util.HashMap;
import java.util.Map;

/**
 * What one connection learned from the peer's HELLO: the protocol version the two sides use, and
 * which of this side's application types the peer does not share. A type is shared when the peer
 * lists its id under the same wire name and, where both sides give one, the same format
 * fingerprint; a value of any other type fails that value (on sending, before a byte is written;
 * on receipt, the one message that carries it), with an error naming the type and why, and the
 * connection goes on. Until the HELLO has arrived nothing is refused here (nothing but the HELLO is
 * sent or read before it).
 *
 * <p>Thread-safety: set once by the handshake on the event loop, then read by any thread that
 * encodes or decodes; the state is one immutable snapshot behind a volatile field.
 */
final class PeerRegistry {
  /** The peer's view of one id that is not shared: what to say when a value of it is refused. */
  private record Refusal(String ours, String theirs, String why) {}

  private record Snapshot(int version, Map<Integer, Refusal> refused, Map<Integer, String> peerNames) {}

  private volatile Snapshot snapshot;

  /** The protocol version the handshake chose, or 0 before it. */
  int version() {
    Snapshot s = snapshot;
    return s == null ? 0 : s.version;
  }

  /**
   * Records what the handshake learned. {@code ours} and {@code theirs} map each id at or above
   * {@link PbRegistry#FIRST_USER_ID} to its wire name, {@code ourFormats} and {@code theirFormats}
   * to its fingerprint (0 or absent: none).
   */
  void learned(
      int version,
      Map<Integer, String> ours,
      Map<Integer, Integer> ourFormats,
      Map<Integer, String> theirs,
      Map<Integer, Integer> theirFormats) {
    Map<Integer, Refusal> refused = new HashMap<>();
    ours.forEach(
        (id, name) -> {
          String peer = theirs.get(id);
          if (peer == null) {
            refused.put(id, new Refusal(name, null, "the peer does not register \"" + name + "\""));
          } else if (!peer.equals(name)) {
            refused.put(
                id,
                new Refusal(
                    name,
                    peer,
                    "id " + id + " is \"" + name + "\" here but \"" + peer + "\" on the peer"));
          } else {
            int a = ourFormats.getOrDefault(id, 0);
            int b = theirFormats.getOrDefault(id, 0);
            if (a != 0 && b != 0 && a != b) {
              refused.put(
                  id,
                  new Refusal(
                      name,
                      peer,
                      "\"" + name + "\" has another shape on the peer (format " + b + ", here "
                          + a + "): its fields differ; register the new shape under a new name"));
            }
          }
        });
    Map<Integer, String> peerNames = new HashMap<>();
    theirs.forEach(
        (id, name) -> {
          if (!ours.containsKey(id)) {
            peerNames.put(id, name);
          }
        });
    snapshot = new Snapshot(version, Map.copyOf(refused), Map.copyOf(peerNames));
  }

  /** Whether any of this side's types is not shared (the common case: none is). */
  boolean refusesAny() {
    Snapshot s = snapshot;
    return s != null && !s.refused.isEmpty();
  }

  /** Fails unless a value of this side's type {@code id} ({@code what}) may be sent. */
  void checkSend(int id, String what) {
    Snapshot s = snapshot;
    if (s == null || s.refused.isEmpty()) {
      return;
    }
    Refusal r = s.refused.get(id);
    if (r != null) {
      throw new PbException(
          Code.UNSERIALIZABLE,
          "cannot send " + what + ": " + r.why + " (see docs/COMPATIBILITY.md)");
    }
  }

  /**
   * Why a value the peer sent with type {@code id} cannot be read, or null if this side reads it.
   * {@code registered}: whether this side registers the id at all.
   */
  String whyUnreadable(int id, boolean registered) {
    Snapshot s = snapshot;
    if (s == null) {
      return registered ? null : "type id " + id + " is not registered here";
    }
    if (!registered) {
      String theirs = s.peerNames.get(id);
      return theirs == null
          ? "type id " + id + " is not registered here, and the peer did not announce it"
          : "the peer sent a \"" + theirs + "\" (type id " + id + "), which is not registered"
              + " here (see docs/COMPATIBILITY.md)";
    }
    Refusal r = s.refused.get(id);
    return r == null ? null : "the peer sent type id " + id + ": " + r.why;
  }
}
