package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.PbClient;
import io.pbj.PbServer;
import io.pbj.RemoteReference;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.testing.PbCleanup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Versions the service assigns are unique across restarts by construction, not by timing: a
 * burst of republishes followed by a quick restart never reissues a version.
 */
class ServiceVersionsTest {
  /**
   * Versions assigned in a burst: each {@code republish()} takes one from the service's counter;
   * taking them from the counter directly keeps the burst far faster than one per microsecond even
   * on a busy machine, so a counter seeded from the clock in microseconds runs ahead of the clock
   * by about this many microseconds (half a second).
   */
  static final int BURST = 500_000;

  /** A longer burst: the run ahead must outlast a server start and an attach (five seconds). */
  static final int LONG_BURST = 5_000_000;

  static final String ORIGIN = PublishingTest.ORIGIN;

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  static PublishingService service() {
    return PublishingService.builder().serverKey(TestKeys.key("origin-1")).service("world").build();
  }

  @Test
  void aQuickRestartAfterABurstNeverAssignsAVersionTheFirstRunAssigned() {
    PublishingService firstRun = service();
    long[] first = new long[BURST];
    for (int i = 0; i < BURST; i++) {
      first[i] = firstRun.nextVersion();
    }
    // The restart: a new service at once, as busy as the first one was.
    PublishingService restarted = service();
    long[] second = new long[BURST];
    for (int i = 0; i < BURST; i++) {
      second[i] = restarted.nextVersion();
    }

    Arrays.sort(first);
    Arrays.sort(second);
    assertThat(duplicates(first)).as("one run never assigns a version twice").isZero();
    assertThat(duplicates(second)).as("one run never assigns a version twice").isZero();
    int reissued = 0;
    for (long v : second) {
      reissued += Arrays.binarySearch(first, v) >= 0 ? 1 : 0;
    }
    assertThat(reissued).as("versions the restarted service assigned that the first run had").isZero();
  }

  private static int duplicates(long[] sorted) {
    int n = 0;
    for (int i = 1; i < sorted.length; i++) {
      n += sorted[i] == sorted[i - 1] ? 1 : 0;
    }
    return n;
  }

  @Test
  void aClientNeverTakesTheFirstRunsStateAsAHitAfterAQuickRestart() {
    SnapshotStore store =
        cleanup.register(SnapshotStore.builder().backend(StoreBackend.MEMORY).build());
    PublishedClient publishing = PublishingTest.inventoryClient(store, ORIGIN);

    PublishingService firstRun = service();
    Tile old = new Tile("tile-0", "grass");
    firstRun.publish(old);
    for (int i = 0; i < LONG_BURST; i++) {
      firstRun.nextVersion();       // other objects' republishes
    }
    old.change("old");
    long oldVersion = old.version();
    String name = "pbj-versions-" + UUID.randomUUID();
    PbServer server = serve(firstRun, name);
    assertThat(attach(publishing, name).get("tile-0", TileCache.class).terrain()).isEqualTo("old");
    server.close();

    // Restarted at once with a newer state, and as busy as before: a clock-seeded counter walks
    // over the version the client stored, and the object's next version may be exactly that one.
    PublishingService secondRun = service();
    Tile fresh = new Tile("tile-0", "grass");
    secondRun.publish(fresh);
    long last = fresh.version();
    for (int i = 0; i < LONG_BURST && last != oldVersion - 1; i++) {
      last = secondRun.nextVersion();
    }
    fresh.change("new");
    serve(secondRun, name);
    TileCache t = attach(publishing, name).get("tile-0", TileCache.class);
    assertThat(t.terrain()).as("the client holds the restarted server's state").isEqualTo("new");
    assertThat(t.fromStore()).isFalse();
  }

  @Test
  void anEpochFileGivesEveryRunItsOwnEpoch(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("versions.epoch");
    long[] first = new long[1000];
    PublishingService a = PublishingService.builder().serverKey(TestKeys.key("origin-1"))
        .service("world")
        .versionEpochFile(file).build();
    for (int i = 0; i < first.length; i++) {
      first[i] = a.nextVersion();
    }
    assertThat(Files.readString(file)).contains("epoch 1\n");
    PublishingService b = PublishingService.builder().serverKey(TestKeys.key("origin-1"))
        .service("world")
        .versionEpochFile(file).build();
    assertThat(Files.readString(file)).contains("epoch 2\n");
    assertThat(first[0]).isEqualTo(1L << 32 | 1);
    assertThat(b.nextVersion()).isEqualTo(2L << 32 | 1);
    assertThat(first[999]).isEqualTo(1L << 32 | 1000);
  }

  @Test
  void anEpochRunsOutIntoTheNextOneTakenFromTheFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("versions.epoch");
    VersionCounter counter = VersionCounter.persisted(file, 2);    // 3 versions per epoch
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 7; i++) {
      assertThat(seen.add(counter.next())).isTrue();
    }
    assertThat(seen).contains(1L << 2 | 1, 1L << 2 | 3, 2L << 2 | 1, 3L << 2 | 1);
    assertThat(Files.readString(file)).contains("epoch 3\n");
    VersionCounter restarted = VersionCounter.persisted(file, 2);
    assertThat(seen).doesNotContain(restarted.next());
  }

  @Test
  void aBadEpochFileIsRefusedNamingTheFileAndTheProblemAndIsLeftAsItWas(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("versions.epoch");
    String[][] cases = {
        {"hello\n", "line 1 is not \"epoch <number>\""},
        {"# only a comment\n", "holds no \"epoch <number>\" line"},
        {"epoch 3\nepoch 4\n", "has a second epoch line (line 2)"},
        {"epoch -3\n", "\"-3\" is not a number"},
        {"epoch 99999999999999999999\n", "is not a number"},
        {"epoch " + ((1L << 31) - 1) + "\n", "the last one"},
        {"x".repeat(VersionCounter.MAX_FILE_BYTES + 1), "more than an epoch file's 4096"},
    };
    for (String[] c : cases) {
      Files.writeString(file, c[0]);
      assertThatThrownBy(() -> PublishingService.builder().serverKey(TestKeys.key("o")).service("w")
              .versionEpochFile(file).build())
          .as(c[0].length() > 50 ? "a big file" : c[0])
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("versionEpochFile " + file)
          .hasMessageContaining(c[1]);
      assertThat(Files.readString(file)).isEqualTo(c[0]);
    }
    Files.write(file, new byte[] {'e', (byte) 0xff, '\n'});
    assertThatThrownBy(() -> VersionCounter.persisted(file, 32)).hasMessageContaining("not UTF-8");
    assertThatThrownBy(() -> PublishingService.builder().serverKey(TestKeys.key("o")).service("w")
            .firstVersion(1).versionEpochFile(file).build())
        .hasMessageContaining("firstVersion and versionEpochFile conflict");
  }

  private PbServer serve(PublishingService service, String name) {
    return cleanup.register(PbServer.builder().inProcess(name).registry(PublishingTest.REGISTRY)
        .rootFactory(service::endpoint).build().start());
  }

  /** Attaches on a new connection, which is closed again once the objects are activated. */
  private Attachment attach(PublishedClient publishing, String name) {
    PbClient client = cleanup.register(
        PbClient.builder().inProcess(name).registry(PublishingTest.REGISTRY).build());
    RemoteReference endpoint = client.rootObject().join();
    Attachment a = publishing.attach(endpoint, "world").join();
    client.close();
    return a;
  }

  /** Clients key snapshots by identity with NUL as the separator: such an identity is refused. */
  @Test
  void anIdentityWithTheNulCharacterIsRefusedWhenTheObjectIsMade() {
    assertThatThrownBy(() -> new Counter("a\u0000b", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must not contain the NUL character: a?b");
  }
}
