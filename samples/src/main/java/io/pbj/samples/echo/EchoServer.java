package io.pbj.samples.echo;

import io.pbj.PbServer;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code echo-server --port P}: serves an {@link EchoService} until killed. */
@Command(name = "echo-server", mixinStandardHelpOptions = true, versionProvider = io.pbj.samples.VersionInfo.class,
    description = "Serve an echo root object over TCP until killed.")
public final class EchoServer implements Callable<Integer> {
  @Option(names = "--port", required = true, description = "TCP port to listen on.")
  int port;

  @Option(names = "--host", defaultValue = "0.0.0.0", description = "Address to bind (default ${DEFAULT-VALUE}).")
  String host;

  @Override
  public Integer call() throws InterruptedException {
    PbServer server =
        PbServer.builder().address(host, port).root(new EchoService()).build().start();
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "echo-server-shutdown"));
    System.out.println("echo-server listening on " + server.localAddress());
    new CountDownLatch(1).await();
    return 0;
  }
}
