package io.pbj.bench.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.testing.PbCleanup;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class LinkProxyTest {
  private static final int READ_TIMEOUT_MILLIS = 10_000;

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  @Test
  void bytesArriveUnchangedInBothDirections() throws Exception {
    LinkProxy proxy = cleanup.register(new LinkProxy(Link.parse("200mbit-2ms")));
    Peer echo = cleanup.register(new Peer(Peer::echo));
    byte[] sent = randomBytes(4 << 20, 1);
    try (Socket client = connect(proxy.forward(echo.port()))) {
      CompletableFuture<Void> writing = writeInRandomPieces(client, sent);
      byte[] back = client.getInputStream().readNBytes(sent.length);
      writing.get(READ_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      assertThat(back).isEqualTo(sent);
    }
  }

  @Test
  void aRoundTripTakesAtLeastTheRoundTripTime() throws Exception {
    LinkProxy proxy = cleanup.register(new LinkProxy(Link.parse("1000mbit-60ms")));
    Peer echo = cleanup.register(new Peer(Peer::echo));
    try (Socket client = connect(proxy.forward(echo.port()))) {
      long t0 = System.nanoTime();
      client.getOutputStream().write(42);
      int back = client.getInputStream().read();
      long elapsed = System.nanoTime() - t0;
      assertThat(back).isEqualTo(42);
      assertThat(elapsed).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(60));
    }
  }

  @Test
  void aTransferTakesAtLeastItsBytesOverTheBandwidth() throws Exception {
    LinkProxy proxy = cleanup.register(new LinkProxy(Link.parse("50mbit-0ms")));
    Peer echo = cleanup.register(new Peer(Peer::echo));
    byte[] sent = randomBytes(1 << 20, 2);
    long transmissionNanos = sent.length * 8_000_000_000L / 50_000_000L;
    try (Socket client = connect(proxy.forward(echo.port()))) {
      long t0 = System.nanoTime();
      CompletableFuture<Void> writing = writeInRandomPieces(client, sent);
      byte[] back = client.getInputStream().readNBytes(sent.length);
      long elapsed = System.nanoTime() - t0;
      writing.get(READ_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      assertThat(back).isEqualTo(sent);
      // Integer division per chunk may round each one down by under a nanosecond.
      assertThat(elapsed).isGreaterThanOrEqualTo(transmissionNanos - sent.length / 1024);
    }
  }

  @Test
  void bytesSentBeforeAClientClosesReachTheServerBeforeItsEndOfStream() throws Exception {
    LinkProxy proxy = cleanup.register(new LinkProxy(Link.parse("100mbit-20ms")));
    CompletableFuture<byte[]> received = new CompletableFuture<>();
    Peer sink = cleanup.register(new Peer(socket -> {
      try {
        received.complete(socket.getInputStream().readAllBytes());
      } catch (IOException e) {
        received.completeExceptionally(e);
      }
    }));
    byte[] sent = randomBytes(1 << 20, 3);
    try (Socket client = connect(proxy.forward(sink.port()))) {
      client.getOutputStream().write(sent);
    }
    assertThat(received.get(READ_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)).isEqualTo(sent);
  }

  @Test
  void closingTheProxyReleasesWhatIsStillOnItsWay() throws Exception {
    LinkProxy proxy = new LinkProxy(Link.parse("1000mbit-60000ms"));
    Peer echo = cleanup.register(new Peer(Peer::echo));
    int bytes = 256 << 10;
    try (Socket client = connect(proxy.forward(echo.port()))) {
      client.getOutputStream().write(randomBytes(bytes, 4));
      await().atMost(Duration.ofSeconds(10)).until(() -> proxy.bytesRead() == bytes);
      proxy.close();
      assertThat(client.getInputStream().read()).as("end of stream, nothing delivered")
          .isEqualTo(-1);
    }
    // The cleanup fails the test if a buffer that was on its way leaked.
  }

  private static Socket connect(int port) throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
    s.setSoTimeout(READ_TIMEOUT_MILLIS);
    return s;
  }

  private static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Writes {@code data} in pieces of 1 byte to 64 KiB from another thread. */
  private static CompletableFuture<Void> writeInRandomPieces(Socket socket, byte[] data) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread writer = new Thread(() -> {
      try {
        OutputStream out = socket.getOutputStream();
        Random random = new Random(data.length);
        for (int off = 0; off < data.length; ) {
          int n = Math.min(data.length - off, 1 + random.nextInt(64 << 10));
          out.write(data, off, n);
          off += n;
        }
        out.flush();
        done.complete(null);
      } catch (IOException e) {
        done.completeExceptionally(e);
      }
    }, "link-proxy-test-writer");
    writer.setDaemon(true);
    writer.start();
    return done;
  }

  /**
   * A blocking TCP server on loopback running {@code handler} on a thread of its own for every
   * connection; closing it closes the listener and every connection and joins the threads.
   */
  private static final class Peer implements AutoCloseable {
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();

    Peer(Consumer<Socket> handler) throws IOException {
      listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread acceptor = new Thread(() -> {
        while (!listener.isClosed()) {
          Socket s;
          try {
            s = listener.accept();
          } catch (IOException e) {
            return;
          }
          sockets.add(s);
          Thread t = new Thread(() -> {
            try (s) {
              handler.accept(s);
            } catch (IOException | UncheckedIOException e) {
              // the connection went away; the test sees it on its side
            }
          }, "link-proxy-test-peer");
          threads.add(t);
          t.start();
        }
      }, "link-proxy-test-acceptor");
      threads.add(acceptor);
      acceptor.start();
    }

    int port() {
      return listener.getLocalPort();
    }

    /** Writes back everything it reads until the end of the stream. */
    static void echo(Socket s) {
      try {
        InputStream in = s.getInputStream();
        in.transferTo(s.getOutputStream());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public void close() throws Exception {
      listener.close();
      for (Socket s : sockets) {
        s.close();
      }
      for (Thread t : threads) {
        t.join(READ_TIMEOUT_MILLIS);
      }
    }
  }
}
