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
 * The value types that may cross a connection as copies, and the exception types that arrive as
 * themselves. Both ends of a connection must agree: at connect time they compare registries, and
 * an id both know that names different classes fails the connection with {@link
 * PbException.Code#REGISTRY_MISMATCH}, naming the id and both classes.
 *
 * <p>Common JDK types are always registered (strings, boxed primitives, primitive arrays, the
 * usual lists, sets and maps, {@code UUID}, {@code Instant}, {@code Duration}); see {@code
 * docs/PROTOCOL.md}. Application types get ids from {@value #FIRST_USER_ID} up, in the order they
 * are registered, so both sides must register them in the same order.
 *
 * <pre>{@code
 * PbRegistry registry = PbRegistry.builder()
 *     .register(Point.class, Route.class)          // records or plain classes, copied
 *     .registerException(OutOfStock.class)         // arrives as itself, needs a (String) constructor
 *     .build();
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 */
public final class PbRegistry {
  /** The first id given to application types. */
  public static final int FIRST_USER_ID = 100;

  private static final PbRegistry DEFAULTS = new Builder().build();

  private final Map<Integer, Class<?>> valueTypes;
  private final Map<String, Class<? extends RuntimeException>> exceptionTypes;
  private final Map<Integer, CacheType> cacheTypes;
  private final Map<Class<?>, Integer> cacheIds;

  /** This registry's {@link PbCodec#of(PbRegistry)}, made on first use. */
  volatile PbCodec codec;

  /**
   * A Cacheable class and the RemoteCache class its receivers create.
   *
   * @param cacheable the server-side class
   * @param remoteCache the client-side class (public, with a no-argument constructor)
   */
  public record CacheType(
      Class<? extends Cacheable> cacheable, Class<? extends RemoteCache> remoteCache) {}

  private PbRegistry(Builder builder) {
    this.valueTypes = Collections.unmodifiableMap(new LinkedHashMap<>(builder.valueTypes));
    this.exceptionTypes = Collections.unmodifiableMap(new LinkedHashMap<>(builder.exceptionTypes));
    this.cacheTypes = Collections.unmodifiableMap(new LinkedHashMap<>(builder.cacheTypes));
    Map<Class<?>, Integer> ids = new java.util.HashMap<>();
    builder.cacheTypes.forEach((id, t) -> ids.put(t.cacheable(), id));
    this.cacheIds = Collections.unmodifiableMap(ids);
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
    b.nextId =
        java.util.stream.Stream.concat(valueTypes.keySet().stream(), cacheTypes.keySet().stream())
                .mapToInt(Integer::intValue)
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

  /** The wire id of a Cacheable class, or null if it is not registered. */
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
    private int nextId = FIRST_USER_ID;

    private Builder() {}

    /**
     * Registers value types, copied when sent, with the next free ids. A type already registered,
     * a {@link Referenceable}, an interface or an abstract class is refused.
     */
    public Builder register(Class<?>... types) {
      for (Class<?> type : types) {
        register(type, nextId);
      }
      return this;
    }

    /** Registers a value type with an explicit id, {@value #FIRST_USER_ID} or above. */
    public Builder register(Class<?> type, int id) {
      Objects.requireNonNull(type, "type");
      if (id < FIRST_USER_ID) {
        throw new IllegalArgumentException(
            "id " + id + " for " + type.getName() + " is below " + FIRST_USER_ID
                + "; lower ids are reserved for built-in types");
      }
      checkFree(id, type);
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
      valueTypes.put(id, type);
      nextId = Math.max(nextId, id + 1);
      return this;
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
     */
    public Builder registerCache(
        Class<? extends Cacheable> cacheable, Class<? extends RemoteCache> remoteCache) {
      Objects.requireNonNull(cacheable, "cacheable");
      Objects.requireNonNull(remoteCache, "remoteCache");
      if (cacheable.isInterface() || Modifier.isAbstract(cacheable.getModifiers())) {
        throw new IllegalArgumentException(
            cacheable.getName() + " is abstract; register the concrete Cacheable classes");
      }
      if (Referenceable.class.isAssignableFrom(cacheable)) {
        throw new IllegalArgumentException(
            cacheable.getName() + " is both Cacheable and Referenceable; it must be one or the other");
      }
      try {
        remoteCache.getDeclaredConstructor();
      } catch (NoSuchMethodException e) {
        throw new IllegalArgumentException(
            remoteCache.getName() + " needs a no-argument constructor to be created on receipt");
      }
      if (Modifier.isAbstract(remoteCache.getModifiers())) {
        throw new IllegalArgumentException(remoteCache.getName() + " is abstract");
      }
      for (CacheType t : cacheTypes.values()) {
        if (t.cacheable() == cacheable) {
          throw new IllegalArgumentException(cacheable.getName() + " is already registered");
        }
      }
      int id = nextId;
      checkFree(id, cacheable);
      cacheTypes.put(id, new CacheType(cacheable, remoteCache));
      nextId = id + 1;
      return this;
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
    valueTypes.forEach((id, c) -> names.add(id + "=" + c.getName()));
    cacheTypes.forEach(
        (id, t) -> names.add(id + "=" + t.cacheable().getName() + "->" + t.remoteCache().getName()));
    return "PbRegistry" + names + " exceptions" + exceptionTypes.keySet();
  }
}
