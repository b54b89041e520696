package io.pbj;

/**
 * A {@link Referenceable} whose remote methods also receive the calling perspective: every
 * {@link Remote @Remote} method takes the perspective (the avatar the caller's connection logged
 * in as, or null before login) as its first parameter, which callers do not pass.
 *
 * <pre>{@code
 * final class Board implements Viewable {
 *   @Remote
 *   public void post(Object perspective, String text) {      // called as post(text)
 *     User user = (User) perspective;
 *     ...
 *   }
 * }
 * }</pre>
 *
 * <p>Thread-safety: as for {@link Referenceable}: calls from several connections may run at once.
 */
public interface Viewable extends Referenceable {}
