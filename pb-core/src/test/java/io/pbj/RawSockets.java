package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.util.internal.PlatformDependent;
import io.pbj.internal.Connection;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What the TCP limit tests look at from outside: plain blocking sockets that play a hostile
 * client, and the server's side of them (bytes received, bytes waiting to go out, direct memory).
 */
final class RawSockets {
  private RawSockets() {}

  /** A blocking socket that has done the handshake (preamble and an empty HELLO). */
  static Socket handshaken(PbServer server) throws IOException {
    Socket s = new Socket("127.0.0.1", server.port());
    s.getOutputStream().write(RawPeer.concat(RawPeer.preamble(), RawPeer.hello()));
    return s;
  }

  /**
   * Sends {@code bytes} on another thread, one every 50 ms (a slowloris peer's pace, not a wait
   * for a result); completes when all are sent or the server has closed the connection.
   */
  static CompletableFuture<Void> trickle(Socket s, byte[] bytes) {
    return CompletableFuture.runAsync(
        () -> {
          try {
            for (byte b : bytes) {
              s.getOutputStream().write(b);
              TimeUnit.MILLISECONDS.sleep(50);
            }
          } catch (IOException | InterruptedException e) {
            // closed by the server
          }
        });
  }

  /** Whether the server has closed {@code s} (reads what is there, without blocking long). */
  static boolean isClosedByServer(Socket s) throws IOException {
    s.setSoTimeout(1);
    InputStream in = s.getInputStream();
    try {
      while (true) {
        if (in.read() < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  /** Bytes the server has received on the connection of {@code s}, or -1 once it is gone. */
  static long serverReceived(PbServer server, Socket s) {
    for (PbConnection c : server.connections()) {
      if (((InetSocketAddress) c.remoteAddress()).getPort() == s.getLocalPort()) {
        return c.stats().bytesReceived();
      }
    }
    return -1;
  }

  /** Bytes waiting in the server's outgoing buffer for {@code c}, read on its event loop. */
  static long pendingOutbound(PbConnection c) throws Exception {
    Channel ch = ((Connection) c).channel();
    return ch.eventLoop()
        .submit(
            () -> {
              ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
              return out == null ? 0L : out.totalPendingWriteBytes();
            })
        .get();
  }

  /** Direct memory Netty has reserved in this JVM. */
  static long directMemory() {
    long used = PlatformDependent.usedDirectMemory();
    assertThat(used).as("Netty tracks its direct memory").isNotNegative();
    return used;
  }
}
