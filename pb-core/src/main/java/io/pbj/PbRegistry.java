package io.pbj;

import java.lang.reflect.Constructor;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The value types that may cross a connection as copies, the Cacheable types, and the exception
 * types that arrive as themselves.
 *
 * <p>Register each type under a <b>stable name</b>: a name that says what the type means on the
 * wire, chosen once and never changed (the Java class may move or be renamed freely). Its wire id
 * is derived from the name ({@link #idOf(String)}), so the order of registration does not matter,
 * and a client need not ship the server's classes: for a Cacheable the server registers its
 * {@link Cacheable} class under a name and the client its {@link RemoteCache} class under the same
 * name. At connect time the two sides exchange the names they registered (with a fingerprint of
 * each value type's shape): a type both know works; a value of a type only one side knows, or
 * whose shape differs, fails that value with an error naming the type, and the connection goes on.
 * So a newer server with extra types still serves an older client for the types both know (see
 * {@code docs/COMPATIBILITY.md}).
 *
 * <pre>{@code
 * // the server
 * PbRegistry server = PbRegistry.builder()
 *     .register("lobby.Score", Score.class)              // records or plain classes, copied
 *     .registerCache("lobby.Scoreboard", Scoreboard.class) // the Cacheable
 *     .registerException(OutOfStock.class)               // arrives as itself, needs a (String) constructor
 *     .build();
 * // the client: same names, its own classes, any order
 * PbRegistry client = PbRegistry.builder()
 *     .registerCache("lobby.Scoreboard", ClientScoreboard.class) // the RemoteCache
 *     .register("lobby.Score", Score.class)
 *     .build();
 * }</pre>
 *
 * <p>Common JDK types are always registered (strings, boxed primitives, primitive arrays, the
 * usual lists, sets and maps, {@code UUID}, {@code Instant}, {@code Duration}); see {@code
 * docs/PROTOCOL.md}.
 *
 * <p>The older <em>positional</em> methods ({@link Builder#register(Class...)}, {@link
 * Builder#register(Class, int)}, {@link Builder#registerCache(Class, Class)}) still work and are
 * deprecated: they give ids from {@value #FIRST_USER_ID} up in registration order, under the class
 * name, so both sides must register the same classes in the same order, and an id both sides list
 * under different class names fails the connection with {@link
 * PbException.Code#REGISTRY_MISMATCH}, naming the id and both classes. Named and positional
 * registrations may be mixed (their ids never overlap).
 *
 * <p>Thread-safety: immutable.
 */
public final class PbRegistry {
  /** The first id given to application types. */
  public static final int FIRST_USER_ID = 100;

  /**
   * The first id derived from a name; positional ids stay below it. Named ids lie in [{@value},
   * 2<sup>21</sup> - 2), so a value's class id takes three bytes on the wire.
   */
  public static final int FIRST_NAMED_ID = 1 << 14;

  /** How many ids names map to. */
  private static final int NAMED_IDS = (1 << 21) - 2 - FIRST_NAMED_ID;

  /** Longest stable name, in characters. */
  public static final int MAX_NAME_LENGTH = 200;

  private static final PbRegistry DEFAULTS = new Builder().build();

  private final Map<Integer, Class<?>> valueTypes;
  private final Map<String, Class<? extends RuntimeException>> exceptionTypes;
  private final Map<Integer, CacheType> cacheTypes;
  private final Map<Class<?>, Integer> cacheIds;
  private final Map<Integer, String> names;
  private final java.util.Set<Integer> namedIds;

  /** This registry's {@link PbCodec#of(PbRegistry)}, made on first use. */
  volatile PbCodec codec;

  /**
   * A Cacheable class and the RemoteCache class its receivers create. A side registers the one it
   * needs, or both: a server that only sends the Cacheable needs no RemoteCache class, and a client
   * that only receives it needs no Cacheable class.
   *
   * @param cacheable the sending side's class, or null where this side only receives
   * @param remoteCache the receiving side's class (public, with a no-argument constructor), or
   *     null where this side only sends
   */
  public record CacheType(
      Class<? extends Cacheable> cacheable, Class<? extends RemoteCache> remoteCache) {}

  private PbRegistry(Builder builder) {
    this.valueTypes = Collections.unmodifiableMap(new LinkedHashMap<>(builder.valueTypes));
    this.exceptionTypes = Collections.unmodifiableMap(new LinkedHashMap<>(builder.exceptionTypes));
    this.cacheTypes = Collections.unmodifiableMap(new LinkedHashMap<>(builder.cacheTypes));
    Map<Class<?>, Integer> ids = new java.util.HashMap<>();
    builder.cacheTypes.forEach(
        (id, t) -> {
          if (t.cacheable() != null) {
            ids.put(t.cacheable(), id);
          }
        });
    this.cacheIds = Collections.unmodifiableMap(ids);
    this.names = Collections.unmodifiableMap(new java.util.TreeMap<>(builder.names));
    this.namedIds = java.util.Set.copyOf(builder.namedIds);
  }

  /**
   * The wire id of the stable name {@code name}: the first four bytes of the SHA-256 of its UTF-8
   * bytes, as an unsigned number, modulo 2<sup>21</sup> - 2 - {@value #FIRST_NAMED_ID}, plus
   * {@value #FIRST_NAMED_ID}. The same in every JVM and every version.
   */
  public static int idOf(String name) {
    byte[] hash;
    try {
      hash =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
    long v =
        ((hash[0] & 0xffL) << 24) | ((hash[1] & 0xffL) << 16) | ((hash[2] & 0xffL) << 8)
            | (hash[3] & 0xffL);
    return FIRST_NAMED_ID + (int) (v % NAMED_IDS);
  }

  /**
   * The wire name of every application id, values and caches: the stable name for a named
   * registration, the class name (of the Cacheable, else the RemoteCache) for a positional one.
   */
  public Map<Integer, String> names() {
    return names;
  }

  /** Whether {@code id} was registered under a stable name (not by position). */
  public boolean isNamed(int id) {
    return namedIds.contains(id);
  }

  /** The wire name {@code type} is registered under as a value type, or null if it is not. */
  public String nameOf(Class<?> type) {
    for (Map.Entry<Integer, Class<?>> e : valueTypes.entrySet()) {
      if (e.getValue() == type) {
        return names.get(e.getKey());
      }
    }
    return null;
  }

  /** A registry with only the built-in types. */
  public static PbRegistry defaults() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this registry's registrations, to add more. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.valueTypes.putAll(valueTypes);
    b.cacheTypes.putAll(cacheTypes);
    b.names.putAll(names);
    b.namedIds.addAll(namedIds);
    b.nextId =
        java.util.stream.Stream.concat(valueTypes.keySet().stream(), cacheTypes.keySet().stream())
                .mapToInt(Integer::intValue)
                .filter(i -> !namedIds.contains(i))
                .max()
                .orElse(FIRST_USER_ID - 1)
            + 1;
    b.exceptionTypes.putAll(exceptionTypes);
    return b;
  }

  /** Application value types by wire id, in registration order. */
  public Map<Integer, Class<?>> valueTypes() {
    return valueTypes;
  }

  /** Cacheable classes and their RemoteCache classes, by wire id. */
  public Map<Integer, CacheType> cacheTypes() {
    return cacheTypes;
  }

  /** The wire id of a Cacheable class, or null if it is not registered (as a Cacheable). */
  public Integer cacheIdOf(Class<?> cacheable) {
    return cacheIds.get(cacheable);
  }

  /** Registered exception types by class name. */
  public Map<String, Class<? extends RuntimeException>> exceptionTypes() {
    return exceptionTypes;
  }

  /**
   * Collects registrations. Thread-safety: not thread-safe; use from one thread.
   */
  public static final class Builder {
    private final Map<Integer, Class<?>> valueTypes = new LinkedHashMap<>();
    private final Map<String, Class<? extends RuntimeException>> exceptionTypes =
        new LinkedHashMap<>();
    private final Map<Integer, CacheType> cacheTypes = new LinkedHashMap<>();
    private final Map<Integer, String> names = new LinkedHashMap<>();
    private final java.util.Set<Integer> namedIds = new java.util.HashSet<>();
    private int nextId = FIRST_USER_ID;

    private Builder() {}

    /**
     * Registers a value type, copied when sent, under the stable name {@code name}; its wire id is
     * {@link PbRegistry#idOf(String) idOf(name)}. The name is 1 to {@value
     * PbRegistry#MAX_NAME_LENGTH} characters of letters, digits and {@code . _ - $ : /}; choose it
     * once and keep it (e.g. {@code "lobby.Score"}): renaming the type on one side only is, on the
     * wire, removing one type and adding another.
     *
     * @throws IllegalArgumentException for a bad name, a name or a class already registered, a
     *     name whose id another registered name already has (the message names both: rename the
     *     newer one), a {@link Referenceable}, a Cacheable or RemoteCache ({@link #registerCache
     *     registerCache}), an exception, an interface or an abstract class
     */
    public Builder register(String name, Class<?> type) {
      Objects.requireNonNull(type, "type");
      int id = namedId(name, type);
      checkValueType(type, id);
      valueTypes.put(id, type);
      names.put(id, name);
      namedIds.add(id);
      return this;
    }

    /**
     * Registers the Cacheable side or the RemoteCache side of a cache type under the stable name
     * {@code name} (see {@link #register(String, Class)} for names): a server registers its
     * {@link Cacheable} class, a client the {@link RemoteCache} class it wants created, under the
     * same name. A side that does both (a relay, a test) calls this twice with the same name, or
     * uses {@link #registerCache(String, Class, Class)}.
     *
     * @throws IllegalArgumentException for a bad name, a name whose id another name has, a class
     *     neither Cacheable nor RemoteCache, or a side of this name already registered
     */
    public Builder registerCache(String name, Class<?> type) {
      Objects.requireNonNull(type, "type");
      if (Cacheable.class.isAssignableFrom(type)) {
        return addCache(name, type.asSubclass(Cacheable.class), null);
      }
      if (RemoteCache.class.isAssignableFrom(type)) {
        return addCache(name, null, type.asSubclass(RemoteCache.class));
      }
      throw new IllegalArgumentException(
          type.getName() + " is neither a Cacheable nor a RemoteCache; registerCache(\"" + name
              + "\", ...) takes the Cacheable on the sending side and the RemoteCache on the"
              + " receiving side");
    }

    /** Registers both sides of a cache type under {@code name}; see {@link #registerCache(String, Class)}. */
    public Builder registerCache(
        String name, Class<? extends Cacheable> cacheable, Class<? extends RemoteCache> remoteCache) {
      Objects.requireNonNull(cacheable, "cacheable");
      Objects.requireNonNull(remoteCache, "remoteCache");
      return addCache(name, cacheable, remoteCache);
    }

    private Builder addCache(
        String name, Class<? extends Cacheable> cacheable, Class<? extends RemoteCache> remoteCache) {
      int id = idFor(name);
      CacheType known = cacheTypes.get(id);
      boolean sameName = known != null && name.equals(names.get(id));
      if (!sameName) {
        id = namedId(name, cacheable != null ? cacheable : remoteCache);
      }
      if (cacheable != null) {
        checkCacheable(cacheable);
        if (sameName && known.cacheable() != null) {
          throw new IllegalArgumentException(
              "cache \"" + name + "\" already has its Cacheable class "
                  + known.cacheable().getName() + "; cannot register " + cacheable.getName());
        }
        for (CacheType t : cacheTypes.values()) {
          if (t.cacheable() == cacheable) {
            throw new IllegalArgumentException(cacheable.getName() + " is already registered");
          }
        }
      }
      if (remoteCache != null) {
        checkRemoteCache(remoteCache);
        if (sameName && known.remoteCache() != null) {
          throw new IllegalArgumentException(
              "cache \"" + name + "\" already has its RemoteCache class "
                  + known.remoteCache().getName() + "; cannot register " + remoteCache.getName());
        }
      }
      cacheTypes.put(
          id,
          new CacheType(
              cacheable != null ? cacheable : sameName ? known.cacheable() : null,
              remoteCache != null ? remoteCache : sameName ? known.remoteCache() : null));
      names.put(id, name);
      namedIds.add(id);
      return this;
    }

    /** The id of a valid name (not yet checked for being free). */
    private static int idFor(String name) {
      Objects.requireNonNull(name, "name");
      if (name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
        throw new IllegalArgumentException(
            "name \"" + name + "\" must have 1 to " + MAX_NAME_LENGTH + " characters, it has "
                + name.length());
      }
      for (int i = 0; i < name.length(); i++) {
        char c = name.charAt(i);
        boolean ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || ".-_$:/".indexOf(c) >= 0;
        if (!ok) {
          throw new IllegalArgumentException(
              "name \"" + name + "\" has the character '" + c + "' at " + i
                  + "; a name may hold letters, digits and . _ - $ : /");
        }
      }
      return idOf(name);
    }

    /** The id of {@code name}, which must be new and must not share its id with another name. */
    private int namedId(String name, Class<?> type) {
      int id = idFor(name);
      String taken = names.get(id);
      if (taken != null) {
        Class<?> holder = valueTypes.containsKey(id) ? valueTypes.get(id)
            : cacheTypes.get(id).cacheable() != null ? cacheTypes.get(id).cacheable()
            : cacheTypes.get(id).remoteCache();
        throw new IllegalArgumentException(
            taken.equals(name)
                ? "name \"" + name + "\" is already registered for " + holder.getName()
                    + "; cannot register " + type.getName()
                : "names \"" + taken + "\" (" + holder.getName() + ") and \"" + name + "\" ("
                    + type.getName() + ") both map to id " + id
                    + "; choose another name for the newer type");
      }
      return id;
    }

    /**
     * Registers value types, copied when sent, with the next free ids. A type already registered,
     * a {@link Referenceable}, an interface or an abstract class is refused.
     *
     * @deprecated positional: both sides must register the same classes in the same order, and a
     *     renamed class breaks the wire; use {@link #register(String, Class)}
     */
    @Deprecated
    public Builder register(Class<?>... types) {
      for (Class<?> type : types) {
        if (nextId >= FIRST_NAMED_ID) {
          throw new IllegalArgumentException(
              "positional ids are used up at " + nextId + "; register " + type.getName()
                  + " by name");
        }
        register(type, nextId);
      }
      return this;
    }

    /**
     * Registers a value type with an explicit id, from {@value #FIRST_USER_ID} up to below
     * {@value #FIRST_NAMED_ID}.
     *
     * @deprecated positional; use {@link #register(String, Class)}
     */
    @Deprecated
    public Builder register(Class<?> type, int id) {
      Objects.requireNonNull(type, "type");
      if (id < FIRST_USER_ID) {
        throw new IllegalArgumentException(
            "id " + id + " for " + type.getName() + " is below " + FIRST_USER_ID
                + "; lower ids are reserved for built-in types");
      }
      if (id >= FIRST_NAMED_ID) {
        throw new IllegalArgumentException(
            "id " + id + " for " + type.getName() + " is " + FIRST_NAMED_ID
                + " or above, where ids are derived from names; register it by name instead");
      }
      checkFree(id, type);
      checkValueType(type, id);
      valueTypes.put(id, type);
      names.put(id, type.getName());
      nextId = Math.max(nextId, id + 1);
      return this;
    }

    private void checkValueType(Class<?> type, int id) {
      if (valueTypes.containsValue(type)) {
        throw new IllegalArgumentException(type.getName() + " is already registered");
      }
      if (Referenceable.class.isAssignableFrom(type)) {
        throw new IllegalArgumentException(
            type.getName() + " is Referenceable: it travels by reference and must not be"
                + " registered as a value type");
      }
      if (Cacheable.class.isAssignableFrom(type) || RemoteCache.class.isAssignableFrom(type)) {
        throw new IllegalArgumentException(
            type.getName() + " is a Cacheable or RemoteCache; use registerCache");
      }
      if (Throwable.class.isAssignableFrom(type)) {
        throw new IllegalArgumentException(
            type.getName() + " is a Throwable: exceptions never travel as values; use"
                + " registerException");
      }
      if (!type.isArray()
          && !type.isEnum()
          && (type.isInterface() || Modifier.isAbstract(type.getModifiers()))) {
        throw new IllegalArgumentException(
            type.getName() + " is abstract; register the concrete classes that are sent");
      }
    }

    private void checkFree(int id, Class<?> type) {
      Class<?> taken = valueTypes.containsKey(id) ? valueTypes.get(id)
          : cacheTypes.containsKey(id) ? cacheTypes.get(id).cacheable() : null;
      if (taken != null) {
        throw new IllegalArgumentException(
            "id " + id + " is already registered for " + taken.getName() + "; cannot register "
                + type.getName());
      }
    }

    /**
     * Registers a {@link Cacheable} class with the {@link RemoteCache} class its receivers
     * create, at the next free id. Both sides register the pair, in the same order as the rest.
     *
     * @deprecated positional, and the receiving side must ship the sending side's class; use
     *     {@link #registerCache(String, Class)} on each side
     */
    @Deprecated
    public Builder registerCache(
        Class<? extends Cacheable> cacheable, Class<? extends RemoteCache> remoteCache) {
      Objects.requireNonNull(cacheable, "cacheable");
      Objects.requireNonNull(remoteCache, "remoteCache");
      checkCacheable(cacheable);
      checkRemoteCache(remoteCache);
      for (CacheType t : cacheTypes.values()) {
        if (t.cacheable() == cacheable) {
          throw new IllegalArgumentException(cacheable.getName() + " is already registered");
        }
      }
      int id = nextId;
      if (id >= FIRST_NAMED_ID) {
        throw new IllegalArgumentException(
            "positional ids are used up at " + id + "; register " + cacheable.getName()
                + " by name");
      }
      checkFree(id, cacheable);
      cacheTypes.put(id, new CacheType(cacheable, remoteCache));
      names.put(id, cacheable.getName());
      nextId = id + 1;
      return this;
    }

    private static void checkCacheable(Class<? extends Cacheable> cacheable) {
      if (cacheable.isInterface() || Modifier.isAbstract(cacheable.getModifiers())) {
        throw new IllegalArgumentException(
            cacheable.getName() + " is abstract; register the concrete Cacheable classes");
      }
      if (Referenceable.class.isAssignableFrom(cacheable)) {
        throw new IllegalArgumentException(
            cacheable.getName() + " is both Cacheable and Referenceable; it must be one or the other");
      }
    }

    private static void checkRemoteCache(Class<? extends RemoteCache> remoteCache) {
      try {
        remoteCache.getDeclaredConstructor();
      } catch (NoSuchMethodException e) {
        throw new IllegalArgumentException(
            remoteCache.getName() + " needs a no-argument constructor to be created on receipt");
      }
      if (Modifier.isAbstract(remoteCache.getModifiers())) {
        throw new IllegalArgumentException(remoteCache.getName() + " is abstract");
      }
    }

    /**
     * Registers an exception type that arrives as itself when remote code throws it. It must be a
     * public {@code RuntimeException} with a public constructor taking one {@code String} (the
     * message).
     */
    public Builder registerException(Class<? extends RuntimeException> type) {
      Objects.requireNonNull(type, "type");
      try {
        Constructor<? extends RuntimeException> c = type.getConstructor(String.class);
        if (!Modifier.isPublic(type.getModifiers()) || Modifier.isAbstract(type.getModifiers())) {
          throw new NoSuchMethodException();
        }
        Objects.requireNonNull(c);
      } catch (NoSuchMethodException e) {
        throw new IllegalArgumentException(
            type.getName() + " cannot be registered as an exception: it needs to be a public,"
                + " concrete class with a public constructor taking one String");
      }
      if (exceptionTypes.put(type.getName(), type) != null) {
        throw new IllegalArgumentException(type.getName() + " is already registered");
      }
      return this;
    }

    public PbRegistry build() {
      return new PbRegistry(this);
    }
  }

  @Override
  public String toString() {
    List<String> names = new ArrayList<>();
    valueTypes.forEach((id, c) -> names.add(label(id) + "=" + c.getName()));
    cacheTypes.forEach(
        (id, t) ->
            names.add(
                label(id) + "=" + (t.cacheable() == null ? "-" : t.cacheable().getName()) + "->"
                    + (t.remoteCache() == null ? "-" : t.remoteCache().getName())));
    return "PbRegistry" + names + " exceptions" + exceptionTypes.keySet();
  }

  private String label(int id) {
    return namedIds.contains(id) ? "\"" + this.names.get(id) + "\"" : String.valueOf(id);
  }
}
