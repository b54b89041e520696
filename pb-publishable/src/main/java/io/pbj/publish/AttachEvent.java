package io.pbj.publish;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * The JFR event of one {@link PublishedClient#attach}, {@code io.pbj.Attach}: from the attach
 * call to the activation of its objects, with what came from the store and what from the server.
 * Attaches are rare, so every one is recorded (no threshold) while a recording enables it.
 *
 * <p>Thread-safety: one instance per attach; begun on the attaching thread and committed where
 * the attach completes, which happens after, never at the same time.
 */
@Name("io.pbj.Attach")
@Label("PBJ Attach")
@Category({"PBJ"})
@Description("A PublishedClient attach: objects activated from the store or from the server")
@StackTrace(false)
final class AttachEvent extends jdk.jfr.Event {
  @Label("Service")
  String service;

  @Label("Server Id")
  String serverId;

  @Label("Objects")
  int objects;

  @Label("Store Hits")
  @Description("Objects activated from the local store")
  int hits;

  @Label("Inlined")
  @Description("Objects whose state came in the attach answer")
  int inlined;

  @Label("Fetched")
  @Description("Objects found stale or missing in the store and fetched in one extra call")
  int fetched;

  @Label("Removed")
  @Description("Store entries of objects the server no longer publishes")
  int removed;

  @Label("Outcome")
  @Description("OK, or the PbException code, or the class of the failure")
  String outcome;

  @Label("Failure")
  String failure;
}
