package io.pbj.internal;

import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.PbRemoteException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Constructor;
import java.util.concurrent.CancellationException;

/**
 * Failures to and from their wire form. Exceptions never travel as serialized objects: only a
 * code, a type name, a message and (if allowed) the stack as text.
 *
 * <p>Thread-safety: stateless.
 */
final class Errors {
  private Errors() {}

  /** Removes the wrappers futures add. */
  static Throwable unwrap(Throwable t) {
    return PbException.unwrap(t);
  }

  static Message.ErrorInfo toWire(Throwable t, boolean sendStack) {
    t = unwrap(t);
    if (t instanceof PbRemoteException r) {
      return new Message.ErrorInfo(
          PbException.Code.REMOTE_FAILURE.name(),
          r.remoteType(),
          r.remoteMessage(),
          sendStack ? r.remoteStackTrace() : null);
    }
    if (t instanceof PbException pb) {
      return new Message.ErrorInfo(pb.code().name(), PbException.class.getName(), pb.detail(),
          sendStack ? stack(t) : null);
    }
    if (t instanceof CancellationException) {
      return new Message.ErrorInfo(
          PbException.Code.CANCELLED.name(), t.getClass().getName(), "cancelled", null);
    }
    return new Message.ErrorInfo(
        PbException.Code.REMOTE_FAILURE.name(),
        t.getClass().getName(),
        t.getMessage(),
        sendStack ? stack(t) : null);
  }

  static Throwable fromWire(Message.ErrorInfo info, PbRegistry registry) {
    PbException.Code code;
    try {
      code = PbException.Code.valueOf(info.code());
    } catch (IllegalArgumentException | NullPointerException e) {
      code = PbException.Code.REMOTE_FAILURE;
    }
    if (code != PbException.Code.REMOTE_FAILURE) {
      return new PbException(code, info.message() == null ? code.name() : info.message());
    }
    Class<? extends RuntimeException> registered = registry.exceptionTypes().get(info.type());
    if (registered != null) {
      try {
        Constructor<? extends RuntimeException> c = registered.getConstructor(String.class);
        RuntimeException e = c.newInstance(info.message());
        if (info.stack() != null) {
          e.addSuppressed(new PbRemoteException(info.type(), info.message(), info.stack()));
        }
        return e;
      } catch (ReflectiveOperationException | RuntimeException e) {
        // fall through to the generic form
      }
    }
    return new PbRemoteException(info.type(), info.message(), info.stack());
  }

  private static String stack(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    return w.toString();
  }
}
