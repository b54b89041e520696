package io.pbj.internal;

import java.util.HashSet;
import java.util.Set;

/**
 * The set-once rule of the builders, in one place (as Caffeine's {@code requireState}): each
 * option may be set once, and setting it again fails at once with an {@link
 * IllegalStateException} that names the builder and the option.
 *
 * <pre>{@code
 * private final SetOnce once = new SetOnce("Portal.Builder");
 * public Builder secret(byte[] secret) {
 *   ... validate secret ...
 *   once.mark("secret"); // after validation: a refused value does not use the option up
 *   this.secret = secret;
 * }
 * }</pre>
 *
 * <p>Thread-safety: not thread-safe; a builder is used from one thread.
 */
public final class SetOnce {
  private final String owner;
  private final Set<String> set = new HashSet<>();

  /** @param owner the builder's name as users write it, e.g. {@code "PbServer.Builder"} */
  public SetOnce(String owner) {
    this.owner = owner;
  }

  /** Marks {@code option} as set; fails, naming it, if it already was. */
  public void mark(String option) {
    if (!set.add(option)) {
      throw new IllegalStateException(owner + "." + option + " was already set");
    }
  }

  /** True if {@code option} was set. */
  public boolean isSet(String option) {
    return set.contains(option);
  }
}
