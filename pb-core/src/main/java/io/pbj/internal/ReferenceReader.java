package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import io.pbj.PbRegistry;
import io.pbj.RemoteCache;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decoding side of references on one connection, used by the channel's decoding Kryo: a
 * reference the peer exported becomes a proxy in the import table (bounded by {@code
 * maxReferences}); a cache becomes a {@link RemoteCache} of its registered class; one of this
 * side's own objects sent back becomes that object again.
 *
 * <p>New caches are created while decoding, but their first state is set on the executor, before
 * the message that carries them is delivered: {@link #takeInits()} hands those steps over with
 * the message, and {@link #initialise} runs them.
 *
 * <p>Thread-safety: confined to the thread that decodes the channel's messages.
 */
final class ReferenceReader implements KryoSetup.ReferenceCodec {
  private static final Logger log = LoggerFactory.getLogger(ReferenceReader.class);

  /** A peer can send a state that fails every time: logged at most once per ten seconds. */
  private static final LogLimiter INIT_FAILED = new LogLimiter(10);

  private final BrokerConfig config;
  private final ExportTable exports;
  private final ImportTable imports;
  private final PeerRegistry peer;
  private List<Runnable> inits = new ArrayList<>();

  ReferenceReader(BrokerConfig config, ExportTable exports, ImportTable imports, PeerRegistry peer) {
    this.config = config;
    this.exports = exports;
    this.imports = imports;
    this.peer = peer;
  }

  /** What the handshake learned of the peer. */
  PeerRegistry peer() {
    return peer;
  }

  /** The cache initialisations the last decoded message needs, handed over once. */
  List<Runnable> takeInits() {
    if (inits.isEmpty()) {
      return List.of();
    }
    List<Runnable> taken = inits;
    inits = new ArrayList<>();
    return taken;
  }

  /** Runs the initialisations {@link #takeInits()} handed over; a failing one is logged. */
  static void initialise(List<Runnable> inits) {
    for (Runnable r : inits) {
      try {
        r.run();
      } catch (RuntimeException e) {
        INIT_FAILED.warn(log, "setState of a new RemoteCache failed", e); // the peer chooses states
      }
    }
  }

  @Override
  public void write(Kryo kryo, Output output, Object value) {
    throw new IllegalStateException("the decoding Kryo does not encode");
  }

  @Override
  public Object read(Kryo kryo, Input input) {
    byte kind = input.readByte();
    int id = input.readVarInt(true);
    if (kind == Wire.REF_YOURS || kind == Wire.REF_CACHE) {
      if (imports.size() >= config.maxReferences()) {
        throw new PbException(
            Code.LIMIT_EXCEEDED,
            "the peer sent more than maxReferences=" + config.maxReferences() + " references");
      }
    }
    if (kind == Wire.REF_YOURS) {
      return imports.receive(id);
    }
    if (kind == Wire.REF_CACHE) {
      return readCache(kryo, input, id);
    }
    if (kind == Wire.REF_MINE) {
      Object local = exports.lookup(id);
      if (local == null) {
        throw new KryoException("the peer sent back object #" + id + ", which is not exported");
      }
      return local;
    }
    throw new KryoException("unknown reference kind " + kind);
  }

  private Object readCache(Kryo kryo, Input input, int id) {
    int typeId = input.readVarInt(true);
    PbRegistry.CacheType type = config.registry().cacheTypes().get(typeId);
    String why = peer.whyUnreadable(typeId, type != null);
    if (why != null) {
      throw new KryoException("cannot receive a cache: " + why);
    }
    if (type.remoteCache() == null) {
      throw new KryoException(
          "cache \"" + config.registry().names().get(typeId) + "\" (type id " + typeId
              + ") has no RemoteCache class here; register one with registerCache");
    }
    ImportTable.CacheReceipt receipt =
        imports.receiveCache(id, () -> CacheHandle.instantiate(type.remoteCache()));
    Object state = kryo.readClassAndObject(input);
    if (receipt.created()) {
      RemoteCache cache = receipt.cache();
      inits.add(() -> CacheHandle.initialise(cache, state));
    }
    return receipt.cache();
  }
}
