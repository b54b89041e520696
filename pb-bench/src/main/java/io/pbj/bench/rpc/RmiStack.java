package io.pbj.bench.rpc;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.rmi.NoSuchObjectException;
import java.rmi.NotBoundException;
import java.rmi.RemoteException;
import java.rmi.registry.LocateRegistry;
import java.rmi.registry.Registry;
import java.rmi.server.UnicastRemoteObject;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * JDK RMI: an exported echo object looked up through a registry on a free loopback port.
 *
 * <p>RMI has only blocking calls, so an asynchronous call is a blocking call on a caller thread
 * from a pool that grows to as many threads as there are calls in flight (64 for the pipelined
 * run: 64 threads each doing blocking calls).
 */
final class RmiStack implements Stack {
  private static final String BINDING = "echo";
  private static final String HOSTNAME_PROPERTY = "java.rmi.server.hostname";

  /** The remote interface; public because RMI's stubs are proxies over it. */
  public interface Echo extends java.rmi.Remote {
    /** Returns {@code payload}. */
    byte[] echo(byte[] payload) throws RemoteException;
  }

  /** The exported object. */
  private static final class EchoObject implements Echo {
    @Override
    public byte[] echo(byte[] payload) {
      return payload;
    }
  }

  private final EchoObject exported = new EchoObject();
  private Registry registry;
  private Echo client;
  private ExecutorService callers;

  @Override
  public void start() throws IOException, NotBoundException {
    // Without it RMI stubs carry the machine's host name, which may not resolve to loopback.
    if (System.getProperty(HOSTNAME_PROPERTY) == null) {
      System.setProperty(HOSTNAME_PROPERTY, InetAddress.getLoopbackAddress().getHostAddress());
    }
    int registryPort = freePort();
    registry = LocateRegistry.createRegistry(registryPort);
    registry.rebind(BINDING, UnicastRemoteObject.exportObject(exported, 0));
    client =
        (Echo)
            LocateRegistry.getRegistry(
                    InetAddress.getLoopbackAddress().getHostAddress(), registryPort)
                .lookup(BINDING);
    AtomicInteger threadCount = new AtomicInteger();
    callers =
        Executors.newCachedThreadPool(
            task -> {
              Thread thread = new Thread(task, "rmi-caller-" + threadCount.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
  }

  @Override
  public byte[] call(byte[] payload) throws RemoteException {
    return client.echo(payload);
  }

  @Override
  public CompletionStage<byte[]> callAsync(byte[] payload) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return client.echo(payload);
          } catch (RemoteException e) {
            throw new CompletionException(e);
          }
        },
        callers);
  }

  @Override
  public void close() throws InterruptedException {
    if (callers != null) {
      callers.shutdownNow();
      callers.awaitTermination(5, TimeUnit.SECONDS);
    }
    unexport(exported);
    unexport(registry);
  }

  private static void unexport(java.rmi.Remote object) {
    if (object == null) {
      return;
    }
    try {
      UnicastRemoteObject.unexportObject(object, true);
    } catch (NoSuchObjectException alreadyGone) {
      // close() is idempotent
    }
  }

  /** A loopback port that was free a moment ago (RMI's registry cannot report an ephemeral one). */
  private static int freePort() throws IOException {
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return probe.getLocalPort();
    }
  }
}
