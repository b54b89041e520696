package io.pbj;

import java.util.Objects;

/**
 * A push to a {@link RemoteCache} that failed on the receiving side, as that side reported it:
 * the update method does not exist there ({@link PbException.Code#NO_SUCH_METHOD}), did not take
 * the arguments ({@link PbException.Code#BAD_ARGUMENTS}), threw ({@link
 * PbException.Code#REMOTE_FAILURE}), or its values could not be decoded ({@link
 * PbException.Code#UNSERIALIZABLE}, {@link PbException.Code#LIMIT_EXCEEDED}). The receiver's copy
 * no longer matches the Cacheable: a listener typically logs it, counts it, or resends the state.
 *
 * <pre>{@code
 * PbServer.builder()
 *     .onUpdateFailure(f -> log.warn("{} on {}: {} {}", f.method(), f.connection(), f.code(), f.detail()))
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 *
 * @param connection the connection whose peer reported the failure
 * @param cacheable the Cacheable whose push failed
 * @param method the update method pushed ({@code "setState"} for a whole state), as the peer
 *     reported it (at most 200 characters)
 * @param code why it failed
 * @param detail the peer's description (at most 400 characters; not trusted: it comes from the
 *     peer)
 */
public record UpdateFailure(
    PbConnection connection,
    Cacheable cacheable,
    String method,
    PbException.Code code,
    String detail) {
  public UpdateFailure {
    Objects.requireNonNull(connection, "connection");
    Objects.requireNonNull(cacheable, "cacheable");
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(detail, "detail");
  }
}
