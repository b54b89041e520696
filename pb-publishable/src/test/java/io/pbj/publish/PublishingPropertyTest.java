package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.publish.PublishedClient.Mode;
import io.pbj.publish.PublishingRun.Restart;
import io.pbj.publish.PublishingRun.Versioning;
import io.pbj.store.StoreBackend;
import io.pbj.testing.PbCleanup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.footnotes.EnableFootnotes;
import net.jqwik.api.footnotes.Footnotes;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;

/**
 * Publishing under any sequence of server changes (pushed to an attached client or not, also
 * during an attach's activation), reconnects in either mode, store reopens and server restarts:
 * the client's store only ever holds a state the server really had at the stored version, an
 * attach activates exactly the server's current states and versions, and an attach after no
 * server-side change is all hits. {@link PublishingRun} drives the real server, client and file
 * store over the in-process transport and holds the checks.
 *
 * <p>A change during an activation must end with the store in sync too: the property found that
 * it did not, once (PublishingPushDuringActivationTest keeps the case).
 */
class PublishingPropertyTest {

  @Property(tries = 40)
  @AddLifecycleHook(PbCleanupPerTry.class)
  @EnableFootnotes
  void storedStateIsWhatTheServerHadAtThatVersionAfterAnySequence(
      @ForAll("worlds") List<Versioning> objects,
      @ForAll("diskBackends") StoreBackend backend,
      @ForAll("actions") List<Action> actions,
      @ForAll Mode finalMode,
      PbCleanup cleanup,
      Footnotes footnotes)
      throws Exception {
    Path dir = Files.createTempDirectory("pbj-publish-property");
    try (PublishingRun run = new PublishingRun(
        cleanup, dir.resolve("snapshots.db"), backend, objects, footnotes::addFootnote)) {
      for (Action action : actions) {
        footnotes.addFootnote(action.toString());
        Statistics.label("steps").collect(action.getClass().getSimpleName());
        action.applyTo(run);
      }
      Mode otherMode = finalMode == Mode.INVENTORY ? Mode.VERSIONS : Mode.INVENTORY;
      footnotes.addFootnote(
          "final reconnect(" + finalMode + "), then reconnect(" + otherMode + ")");
      run.reconnect(finalMode);
      Attachment again = run.reconnect(otherMode);
      assertThat(again.hits()).as("a second attach with nothing changed").isEqualTo(objects.size());
    } finally {
      deleteRecursively(dir);
    }
    // Every kind of step, and every way an update and an attach can go, ran in some try.
    Statistics.label("steps").coverage(c -> {
      for (Class<?> kind : Action.class.getPermittedSubclasses()) {
        c.check(kind.getSimpleName()).count(n -> n > 0);
      }
    });
    Statistics.label("updates").coverage(c -> {
      c.check("no client attached").count(n -> n > 0);
      c.check("client attached, push awaited").count(n -> n > 0);
      c.check("client attached, push not awaited").count(n -> n > 0);
    });
    Statistics.label("attaches").coverage(c -> {
      for (Mode mode : Mode.values()) {
        c.check(mode, "all hits").count(n -> n > 0);
        c.checkQuery(v -> v.get(0) == mode && !v.get(1).equals("all hits")).count(n -> n > 0);
      }
      c.checkQuery(v -> v.get(1).equals("some hits")).count(n -> n > 0);
    });
  }

  /** How each of 1 to 8 published objects gets its versions. */
  @Provide
  Arbitrary<List<Versioning>> worlds() {
    return Arbitraries.of(Versioning.class).list().ofMinSize(1).ofMaxSize(8)
        .withSizeDistribution(RandomDistribution.uniform());
  }

  @Provide
  Arbitrary<StoreBackend> diskBackends() {
    return Arbitraries.of(StoreBackend.MAPDB, StoreBackend.MVSTORE);
  }

  @Provide
  Arbitrary<List<Action>> actions() {
    Arbitrary<Action> update = Combinators.combine(
            Arbitraries.integers().between(0, 7),
            Arbitraries.integers().between(0, 3),
            Arbitraries.of(Versioning.class),
            Arbitraries.of(true, false))
        .as(Update::new);
    Arbitrary<Action> reconnect = Arbitraries.of(Mode.class).map(Reconnect::new);
    Arbitrary<Action> racingReconnect = Combinators.combine(
            Arbitraries.of(Mode.class),
            Arbitraries.integers().between(0, 7),
            Arbitraries.integers().between(0, 3))
        .as(ReconnectWhileServerChanges::new);
    Arbitrary<Action> restart = Arbitraries.of(Restart.class).map(RestartServer::new);
    return Arbitraries.frequencyOf(
            Tuple.of(5, update),
            Tuple.of(3, reconnect),
            Tuple.of(1, racingReconnect),
            Tuple.of(1, Arbitraries.just(new Disconnect())),
            Tuple.of(1, Arbitraries.just(new ReopenStore())),
            Tuple.of(1, restart))
        .list()
        .ofMaxSize(15)
        .withSizeDistribution(RandomDistribution.uniform());
  }

  /** One step of a sequence; its string is how a failing sequence is printed. */
  sealed interface Action {
    void applyTo(PublishingRun run) throws Exception;
  }

  /** The server changes object {@code object} (modulo the world's size) and republishes it. */
  record Update(int object, int value, Versioning versioning, boolean waitForPush)
      implements Action {
    @Override
    public void applyTo(PublishingRun run) {
      run.update(object, value, versioning, waitForPush);
    }

    @Override
    public String toString() {
      return "update(#" + object + " := " + PublishingRun.terrain(value) + ", "
          + (versioning == Versioning.SERVICE ? "republish()" : "republish(v)")
          + (waitForPush ? ", wait for the push" : ", push not awaited") + ")";
    }
  }

  /** The client closes its connection. */
  record Disconnect() implements Action {
    @Override
    public void applyTo(PublishingRun run) {
      run.disconnect();
    }

    @Override
    public String toString() {
      return "disconnect";
    }
  }

  /** The client attaches again on a new connection. */
  record Reconnect(Mode mode) implements Action {
    @Override
    public void applyTo(PublishingRun run) throws Exception {
      run.reconnect(mode);
    }

    @Override
    public String toString() {
      return "reconnect(" + mode + ")";
    }
  }

  /** The client attaches again while the server changes object {@code object} (modulo size). */
  record ReconnectWhileServerChanges(Mode mode, int object, int value) implements Action {
    @Override
    public void applyTo(PublishingRun run) throws Exception {
      run.reconnectWhileServerChanges(mode, object, value);
    }

    @Override
    public String toString() {
      return "reconnect(" + mode + ") while the server changes #" + object + " := "
          + PublishingRun.terrain(value) + " with republish()";
    }
  }

  /** The client closes its store (disconnecting first) and opens the file again. */
  record ReopenStore() implements Action {
    @Override
    public void applyTo(PublishingRun run) {
      run.reopenStore();
    }

    @Override
    public String toString() {
      return "reopen store";
    }
  }

  /** The server stops and starts again with the same server id. */
  record RestartServer(Restart restart) implements Action {
    @Override
    public void applyTo(PublishingRun run) {
      run.restartServer(restart);
    }

    @Override
    public String toString() {
      return "restart server(" + restart + ")";
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
