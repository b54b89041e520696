package io.pbj.publish;

import io.pbj.testing.PbCleanup;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AroundTryHook;
import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.Lifespan;
import net.jqwik.api.lifecycle.ParameterResolutionContext;
import net.jqwik.api.lifecycle.ResolveParameterHook;
import net.jqwik.api.lifecycle.Store;
import net.jqwik.api.lifecycle.TryExecutionResult;
import net.jqwik.api.lifecycle.TryExecutor;
import net.jqwik.api.lifecycle.TryLifecycleContext;

/**
 * Gives every try of a jqwik property its own {@link PbCleanup}, as a parameter of that type, and
 * runs it when the try ends: servers and clients it registered are closed and must terminate, and
 * a Netty leak reported meanwhile fails the try. JUnit's {@code @RegisterExtension} does not reach
 * jqwik properties, hence this hook.
 *
 * <pre>{@code
 * @Property
 * @AddLifecycleHook(PbCleanupPerTry.class)
 * void someProperty(@ForAll int x, PbCleanup cleanup) {
 *   PbServer server = cleanup.register(PbServer.builder()...build().start());
 * }
 * }</pre>
 *
 * <p>Thread-safety: jqwik calls it from the thread that runs the property.
 */
final class PbCleanupPerTry implements ResolveParameterHook, AroundTryHook {
  private static final Object KEY = Tuple.of(PbCleanupPerTry.class, "cleanup");

  private static PbCleanup cleanupOfThisTry() {
    return Store.getOrCreate(KEY, Lifespan.TRY, PbCleanup::new).get();
  }

  @Override
  public Optional<ParameterSupplier> resolve(
      ParameterResolutionContext parameter, LifecycleContext context) {
    if (!parameter.typeUsage().isOfType(PbCleanup.class)) {
      return Optional.empty();
    }
    return Optional.of(optionalTry -> cleanupOfThisTry());
  }

  @Override
  public TryExecutionResult aroundTry(
      TryLifecycleContext context, TryExecutor aTry, List<Object> parameters) {
    TryExecutionResult result = aTry.execute(parameters);
    try {
      // PbCleanup does not read its JUnit context: it closes, checks termination and leaks.
      cleanupOfThisTry().afterEach(null);
    } catch (Throwable cleanupFailure) {
      if (result.isFalsified()) {
        result.throwable().ifPresent(t -> t.addSuppressed(cleanupFailure));
        return result;
      }
      return TryExecutionResult.falsified(cleanupFailure);
    }
    return result;
  }
}
