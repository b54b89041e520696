package io.pbj.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;

/**
 * The JFR event of one remote call, {@code io.pbj.Call}: committed when the call ends, with its
 * duration from start to outcome. Recorded only for calls that took at least the threshold (10 ms
 * by default, as the JDK's own socket events in its profile settings); a recording that wants
 * every call sets {@code io.pbj.Call#threshold=0 ms}. See docs/OBSERVABILITY.md.
 *
 * <p>Thread-safety: one instance per call; it is begun on the thread that starts the call and
 * committed on the thread that sees its outcome, which happens after, never at the same time.
 */
@Name("io.pbj.Call")
@Label("PBJ Call")
@Category({"PBJ"})
@Description("A remote call made (CLIENT) or run (SERVER) by a PBJ broker")
@Threshold("10 ms")
@StackTrace(false)
final class CallEvent extends jdk.jfr.Event {
  @Label("Side")
  @Description("CLIENT: this side made the call; SERVER: this side ran it")
  String side;

  @Label("Method")
  String method;

  @Label("Target")
  @Description("The remote reference called (CLIENT) or the class of the object that ran it (SERVER)")
  String target;

  @Label("Remote Address")
  String remoteAddress;

  @Label("One-Way")
  boolean oneWay;

  @Label("Outcome")
  @Description("OK, or the PbException code, or the class of the failure")
  String outcome;

  @Label("Failure")
  String failure;
}
