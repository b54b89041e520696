package io.pbj.bench.fanout;

import java.util.List;

/**
 * One way of broadcasting ticks from a server to a number of observers over loopback TCP.
 *
 * <p>Thread-safety: {@link #start}, {@link #push} and {@link #close} are called from the one
 * benchmark thread; the receivers are updated by the stack's own threads.
 */
interface FanoutStack extends AutoCloseable {

  /** The name in the table. */
  String name();

  /**
   * Starts a server and {@code observers} clients, each subscribed and reporting to a receiver
   * of its own that reports to {@code window}, and expecting tick 0 next.
   */
  void start(int observers, Window window) throws Exception;

  /** Pushes tick {@code seq} with {@code payload} to every observer. */
  void push(long seq, byte[] payload);

  /** The receivers, one per observer. */
  List<Receiver> receivers();

  /** Shuts everything down and waits for the threads to end. */
  @Override
  void close() throws Exception;
}
