package io.pbj.internal;

import io.pbj.PbException;
import io.pbj.Remote;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Typed views of remote references, in the manner of Retrofit: interfaces only, each method's
 * metadata parsed once per interface and cached, configuration errors naming {@code
 * Interface.method}.
 *
 * <p>Thread-safety: thread-safe; proxies are as thread-safe as the reference they wrap.
 */
final class TypedProxies {
  private TypedProxies() {}

  /** What one interface method becomes. */
  private record MethodInfo(String remoteName, boolean oneWay, Class<?> resultType) {}

  private static final ClassValue<Map<Method, MethodInfo>> METADATA =
      new ClassValue<>() {
        @Override
        protected Map<Method, MethodInfo> computeValue(Class<?> type) {
          return parse(type);
        }
      };

  static <T> T create(RealRemoteReference ref, Class<T> remoteInterface) {
    if (!remoteInterface.isInterface()) {
      throw new IllegalArgumentException(
          remoteInterface.getName() + " is not an interface; typed references need one");
    }
    Map<Method, MethodInfo> methods = METADATA.get(remoteInterface);
    Object proxy =
        Proxy.newProxyInstance(
            remoteInterface.getClassLoader(),
            new Class<?>[] {remoteInterface},
            new Handler(ref, methods));
    return remoteInterface.cast(proxy);
  }

  /** The reference behind a typed proxy, or null if {@code value} is not one. */
  static RealRemoteReference unwrap(Object value) {
    if (Proxy.isProxyClass(value.getClass())
        && Proxy.getInvocationHandler(value) instanceof Handler h) {
      return h.ref;
    }
    return null;
  }

  private static Map<Method, MethodInfo> parse(Class<?> type) {
    Map<Method, MethodInfo> result = new HashMap<>();
    for (Method m : type.getMethods()) {
      if (m.isDefault() || Modifier.isStatic(m.getModifiers())) {
        continue;
      }
      Class<?> returns = m.getReturnType();
      boolean oneWay = returns == void.class;
      if (!oneWay && returns != CompletionStage.class && returns != CompletableFuture.class) {
        throw new IllegalArgumentException(
            type.getSimpleName() + "." + m.getName() + " returns " + returns.getSimpleName()
                + "; remote interface methods must return CompletableFuture, CompletionStage"
                + " or void (one-way)");
      }
      Remote remote = m.getAnnotation(Remote.class);
      String name = remote != null && !remote.value().isEmpty() ? remote.value() : m.getName();
      Class<?> resultType = Object.class;
      if (m.getGenericReturnType() instanceof ParameterizedType p
          && p.getActualTypeArguments()[0] instanceof Class<?> c) {
        resultType = c;
      } else if (m.getGenericReturnType() instanceof ParameterizedType p
          && p.getActualTypeArguments()[0] instanceof ParameterizedType inner
          && inner.getRawType() instanceof Class<?> c) {
        resultType = c;
      }
      result.put(m, new MethodInfo(name, oneWay, resultType));
    }
    return Map.copyOf(result);
  }

  private static final class Handler implements InvocationHandler {
    final RealRemoteReference ref;
    private final Map<Method, MethodInfo> methods;

    Handler(RealRemoteReference ref, Map<Method, MethodInfo> methods) {
      this.ref = ref;
      this.methods = methods;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      if (method.getDeclaringClass() == Object.class) {
        switch (method.getName()) {
          case "equals":
            return args[0] != null && ref.equals(unwrap(args[0]));
          case "hashCode":
            return ref.hashCode();
          case "toString":
            return "Typed" + ref;
          default:
            throw new PbException(
                PbException.Code.NO_SUCH_METHOD, "cannot call " + method + " on a proxy");
        }
      }
      if (method.isDefault()) {
        return InvocationHandler.invokeDefault(proxy, method, args);
      }
      MethodInfo info = methods.get(method);
      Object[] a = args == null ? new Object[0] : args;
      if (info.oneWay()) {
        ref.callRemoteOneWay(info.remoteName(), a);
        return null;
      }
      Class<?> resultType = info.resultType();
      if (resultType == Object.class || resultType == Void.class) {
        return ref.callRemote(info.remoteName(), a);
      }
      return ref.call(resultType, info.remoteName(), a);
    }
  }
}
