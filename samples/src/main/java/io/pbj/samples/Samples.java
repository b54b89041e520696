package io.pbj.samples;

import io.pbj.samples.chat.ChatClient;
import io.pbj.samples.chat.ChatServer;
import io.pbj.samples.echo.EchoClient;
import io.pbj.samples.echo.EchoDemo;
import io.pbj.samples.echo.EchoServer;
import io.pbj.samples.world.WorldClient;
import io.pbj.samples.world.WorldDemo;
import io.pbj.samples.world.WorldServer;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code pbj-samples.jar}: one picocli subcommand per sample.
 *
 * <pre>{@code
 * java -jar samples/target/pbj-samples.jar world-demo
 * java -jar samples/target/pbj-samples.jar echo-demo
 * java -jar samples/target/pbj-samples.jar echo-server --port 7000
 * }</pre>
 */
@Command(
    name = "pbj-samples",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.class,
    description = "PBJ sample programs.",
    subcommands = {
      WorldDemo.class,
      WorldServer.class,
      WorldClient.class,
      EchoDemo.class,
      EchoServer.class,
      EchoClient.class,
      ChatServer.class,
      ChatClient.class,
      CacheInspect.class
    })
public final class Samples implements Runnable {
  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  public static void main(String[] args) {
    if (Runtime.version().feature() >= 24 && System.getProperty("kryo.unsafe") == null) {
      // JDK 24+ warns at Kryo's first use of sun.misc.Unsafe (JEP 498), which a future JDK will
      // refuse; Kryo without Unsafe is the path that will keep working. -Dkryo.unsafe overrides.
      System.setProperty("kryo.unsafe", "false");
    }
    System.exit(new CommandLine(new Samples()).execute(args));
  }
}
