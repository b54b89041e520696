package io.pbj.publish.internal;

/**
 * The set-once rule of this module's builders, in one place (as Caffeine's {@code requireState}):
 * setting an option that already has a value fails at once, naming the builder and the option.
 * (pb-core's builders share {@code io.pbj.internal.SetOnce}; this module is built on pb-core's
 * public API only, so it keeps its own.)
 *
 * <p>Thread-safety: stateless.
 */
public final class Builders {
  private Builders() {}

  /**
   * Fails with {@code "<builder>.<option> was already set"} when {@code current}, the option's
   * value so far, is not null.
   */
  public static void requireUnset(String builder, String option, Object current) {
    if (current != null) {
      throw new IllegalStateException(builder + "." + option + " was already set");
    }
  }
}
