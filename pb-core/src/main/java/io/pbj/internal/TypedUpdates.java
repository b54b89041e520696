package io.pbj.internal;

import io.pbj.Cacheable;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.RemoteCache;
import io.pbj.RemoteObserver;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Proxy;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Typed views of {@link RemoteObserver}s ({@link RemoteObserver#as}): an interface whose methods
 * push updates, parsed once per interface (as {@link TypedProxies} does for calls), its errors
 * naming {@code Interface.method}. Where the registry names the receiver's {@link RemoteCache}
 * class, each method is checked against it once per pair: an update the receiver cannot run (no
 * such {@code @Remote} method, another number of parameters, a parameter type it cannot take) is
 * refused when the view is made, not found when the receiver fails to apply it.
 *
 * <p>Thread-safety: thread-safe; views are as thread-safe as the observers they push to.
 */
public final class TypedUpdates {
  private TypedUpdates() {}

  /** What one interface method pushes. */
  private record Update(String name, boolean returnsFuture) {}

  /** The update methods of an interface, or why it cannot be one. */
  private record Api(Map<Method, Update> methods, RuntimeException error) {}

  private static final ClassValue<Api> APIS =
      new ClassValue<>() {
        @Override
        protected Api computeValue(Class<?> type) {
          try {
            return new Api(parse(type), null);
          } catch (RuntimeException e) {
            return new Api(Map.of(), e);
          }
        }
      };

  /** Per interface, per receiver class: why the interface does not fit it, or "" if it does. */
  private static final ClassValue<Map<Class<?>, String>> FITS =
      new ClassValue<>() {
        @Override
        protected Map<Class<?>, String> computeValue(Class<?> type) {
          return new ConcurrentHashMap<>();
        }
      };

  /**
   * Checks that {@code updates} is an interface of update methods; throws {@link
   * IllegalArgumentException} naming {@code Interface.method} otherwise.
   */
  public static void check(Class<?> updates) {
    methods(updates);
  }

  /**
   * A view of {@code observer} through {@code updates}, checked against the receiver's cache
   * class for {@code cacheable} when {@code registry} names one.
   */
  static <T> T view(
      RemoteObserver observer, Class<T> updates, PbRegistry registry, Class<?> cacheable) {
    Map<Method, Update> methods = methods(updates);
    Class<? extends RemoteCache> receiver = receiverOf(registry, cacheable);
    if (receiver != null) {
      String misfit =
          FITS.get(updates).computeIfAbsent(receiver, r -> misfit(updates, methods, receiver));
      if (!misfit.isEmpty()) {
        throw new IllegalArgumentException(misfit);
      }
    }
    return updates.cast(
        Proxy.newProxyInstance(
            updates.getClassLoader(),
            new Class<?>[] {updates},
            new Handler(updates, methods, () -> List.of(observer), null, observer)));
  }

  /**
   * A view that pushes each update to every observer {@code observers} supplies when it is
   * called, and hands an observer found stopped to {@code stopped}; a future-returning method's
   * future completes when every push has.
   */
  public static <T> T broadcast(
      Class<T> updates,
      Supplier<? extends Iterable<RemoteObserver>> observers,
      Consumer<RemoteObserver> stopped,
      Object identity) {
    Map<Method, Update> methods = methods(updates);
    return updates.cast(
        Proxy.newProxyInstance(
            updates.getClassLoader(),
            new Class<?>[] {updates},
            new Handler(updates, methods, observers, stopped, identity)));
  }

  private static Map<Method, Update> methods(Class<?> updates) {
    if (!updates.isInterface()) {
      throw new IllegalArgumentException(
          updates.getName() + " is not an interface; typed updates need one");
    }
    Api api = APIS.get(updates);
    if (api.error() != null) {
      throw api.error();
    }
    return api.methods();
  }

  private static Class<? extends RemoteCache> receiverOf(PbRegistry registry, Class<?> cacheable) {
    if (registry == null || cacheable == null) {
      return null;
    }
    Integer id = registry.cacheIdOf(cacheable);
    PbRegistry.CacheType type = id == null ? null : registry.cacheTypes().get(id);
    return type == null ? null : type.remoteCache();
  }

  private static Map<Method, Update> parse(Class<?> type) {
    Map<Method, Update> result = new HashMap<>();
    Map<String, Method> byName = new HashMap<>();
    for (Method m : type.getMethods()) {
      if (m.isDefault() || Modifier.isStatic(m.getModifiers())) {
        continue;
      }
      String where = type.getSimpleName() + "." + m.getName();
      Class<?> returns = m.getReturnType();
      boolean future = returns == CompletableFuture.class || returns == CompletionStage.class;
      if (returns != void.class && !future) {
        throw new IllegalArgumentException(
            where + " returns " + returns.getSimpleName() + "; update methods return void or"
                + " CompletableFuture<Void> (done when the update is handed to the network)");
      }
      if (future && !completesEmpty(m.getGenericReturnType())) {
        throw new IllegalArgumentException(
            where + " returns " + m.getGenericReturnType().getTypeName() + "; an update has no"
                + " answer: use CompletableFuture<Void>");
      }
      Remote remote = m.getAnnotation(Remote.class);
      String name = remote != null && !remote.value().isEmpty() ? remote.value() : m.getName();
      if (name.length() > Wire.MAX_NAME) {
        throw new IllegalArgumentException(
            where + ": the update name is " + name.length() + " characters, over the limit of "
                + Wire.MAX_NAME);
      }
      Method other = byName.put(name, m);
      if (other != null) {
        throw new IllegalArgumentException(
            where + ": more than one update method is named '" + name + "' (receivers find"
                + " update methods by name, so names must be unique per interface)");
      }
      result.put(m, new Update(name, future));
    }
    return Map.copyOf(result);
  }

  private static boolean completesEmpty(Type returns) {
    if (!(returns instanceof ParameterizedType p)) {
      return true; // raw: completes with null
    }
    Type arg = p.getActualTypeArguments()[0];
    return arg == Void.class
        || arg instanceof WildcardType w && w.getUpperBounds()[0] == Object.class;
  }

  /** Why {@code updates} does not fit {@code receiver}, naming each misfit, or "". */
  private static String misfit(
      Class<?> updates, Map<Method, Update> methods, Class<? extends RemoteCache> receiver) {
    List<String> problems = new ArrayList<>();
    for (Map.Entry<Method, Update> e : methods.entrySet()) {
      Method m = e.getKey();
      String name = e.getValue().name();
      String where = updates.getSimpleName() + "." + m.getName();
      RemoteMethods.Target target;
      try {
        target = RemoteMethods.find(receiver, name);
      } catch (PbException notThere) {
        problems.add(
            where + ": " + receiver.getName() + " has no @Remote update method '" + name + "'");
        continue;
      } catch (RuntimeException broken) {
        problems.add(where + ": " + broken.getMessage());
        continue;
      }
      Class<?>[] sent = m.getParameterTypes();
      Class<?>[] taken = target.parameters();
      if (sent.length != taken.length) {
        problems.add(
            where + " has " + sent.length + " parameter" + (sent.length == 1 ? "" : "s") + ", "
                + target.qualifiedName() + " takes " + taken.length);
        continue;
      }
      for (int i = 0; i < sent.length; i++) {
        if (!mayArriveAs(sent[i], taken[i])) {
          problems.add(
              where + " parameter " + i + " is a " + sent[i].getName() + ", "
                  + target.qualifiedName() + " takes a " + taken[i].getName());
        }
      }
    }
    problems.sort(null);
    return String.join("; ", problems);
  }

  /**
   * Whether a value declared as {@code sent} may arrive as something a {@code taken} parameter
   * accepts. Only what is certain is refused: a declared type that is {@code Object}, an
   * interface, or a reference (which arrives as a proxy or a cache) may hold anything.
   */
  private static boolean mayArriveAs(Class<?> sent, Class<?> taken) {
    Class<?> s = Reflection.box(sent);
    Class<?> t = Reflection.box(taken);
    if (t.isAssignableFrom(s) || s.isAssignableFrom(t)) {
      return true; // the same, or a value of the declared type may be one the receiver takes
    }
    return s == Object.class
        || s.isInterface()
        || Referenceable.class.isAssignableFrom(s)
        || Cacheable.class.isAssignableFrom(s)
        || t.isInterface() && !s.isPrimitive() && !Modifier.isFinal(s.getModifiers());
  }

  private static final class Handler implements InvocationHandler {
    private final Class<?> type;
    private final Map<Method, Update> methods;
    private final Supplier<? extends Iterable<RemoteObserver>> observers;
    private final Consumer<RemoteObserver> stopped;
    private final Object identity;

    Handler(
        Class<?> type,
        Map<Method, Update> methods,
        Supplier<? extends Iterable<RemoteObserver>> observers,
        Consumer<RemoteObserver> stopped,
        Object identity) {
      this.type = type;
      this.methods = methods;
      this.observers = observers;
      this.stopped = stopped;
      this.identity = identity;
    }

    private CompletableFuture<Void> push(RemoteObserver o, String name, Object[] args) {
      CompletableFuture<Void> f = o.callRemote(name, args);
      if (stopped != null && f.isCompletedExceptionally() && !o.isObserving()) {
        stopped.accept(o);
      }
      return f;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      if (method.getDeclaringClass() == Object.class) {
        switch (method.getName()) {
          case "equals":
            return args[0] != null
                && Proxy.isProxyClass(args[0].getClass())
                && Proxy.getInvocationHandler(args[0]) instanceof Handler h
                && h.type == type
                && h.identity == identity;
          case "hashCode":
            return System.identityHashCode(identity);
          case "toString":
            return type.getSimpleName() + " view of " + identity;
          default:
            throw new UnsupportedOperationException(method.toString());
        }
      }
      if (method.isDefault()) {
        return InvocationHandler.invokeDefault(proxy, method, args);
      }
      Update update = methods.get(method);
      Object[] a = args == null ? new Object[0] : args;
      if (!update.returnsFuture()) {
        // nobody waits: encoded once for every connection where the arguments allow it
        Iterable<RemoteObserver> all = observers.get();
        Fanout.callRemoteAll(all, update.name(), a);
        if (stopped != null) {
          for (RemoteObserver o : all) {
            if (!o.isObserving()) {
              stopped.accept(o);
            }
          }
        }
        return null;
      }
      List<CompletableFuture<Void>> pushed = new ArrayList<>();
      for (RemoteObserver o : observers.get()) {
        pushed.add(push(o, update.name(), a));
      }
      return pushed.size() == 1
          ? pushed.get(0)
          : CompletableFuture.allOf(pushed.toArray(CompletableFuture[]::new));
    }
  }
}
