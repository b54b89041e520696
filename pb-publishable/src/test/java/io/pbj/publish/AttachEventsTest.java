package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.PbClient;
import io.pbj.PbException;
import io.pbj.PbServer;
import io.pbj.RemoteReference;
import io.pbj.store.SnapshotStore;
import io.pbj.testing.PbCleanup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link AttachListener} and the {@code io.pbj.Attach} JFR event over real attaches, in-process. */
class AttachEventsTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  final String name = "pbj-attach-events-" + UUID.randomUUID();

  private RemoteReference connect() throws Exception {
    PublishingService service =
        PublishingService.builder().serverKey(TestKeys.key("origin-1")).service("world").build();
    service.publishAll(PublishingTest.tiles(3));
    cleanup.register(
        PbServer.builder().inProcess(name).registry(PublishingTest.REGISTRY)
            .rootFactory(service::endpoint).build().start());
    return newEndpoint();
  }

  private RemoteReference newEndpoint() throws Exception {
    return cleanup.register(
            PbClient.builder().inProcess(name).registry(PublishingTest.REGISTRY).build())
        .rootObject()
        .get(10, TimeUnit.SECONDS);
  }

  /** Counts attaches as they are reported. */
  static final class Recorder implements AttachListener {
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<String> threads = new CopyOnWriteArrayList<>();

    @Override
    public void attached(Attachment a, long nanos) {
      threads.add(Thread.currentThread().getName());
      events.add(a.service() + " hits=" + a.hits() + " misses=" + (a.inlined() + a.fetched())
          + (nanos >= 0 ? "" : " negative"));
    }

    @Override
    public void attachFailed(String service, Throwable failure, long nanos) {
      threads.add(Thread.currentThread().getName());
      events.add(service + " failed "
          + (failure instanceof PbException pb ? pb.code() : failure.getClass().getSimpleName()));
    }
  }

  @Test
  void attachesAreReportedWithTheirStoreHitsAndMisses() throws Exception {
    SnapshotStore store = cleanup.register(PublishingTest.memoryStore());
    Recorder recorder = new Recorder();
    PublishedClient client =
        PublishedClient.builder().store(store).expectedServerId(PublishingTest.ORIGIN)
            .attachListener(recorder).build();
    RemoteReference first = connect();

    client.attach(first, "world").get(10, TimeUnit.SECONDS);
    client.attach(newEndpoint(), "world").get(10, TimeUnit.SECONDS);
    CompletableFuture<Attachment> missing = client.attach(newEndpoint(), "no-such-service");
    assertThatThrownBy(() -> missing.get(10, TimeUnit.SECONDS));
    // the listener runs as the attach completes: after the future a caller sees, at the latest
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
        .until(() -> recorder.events.size() == 3);

    assertThat(recorder.events)
        .containsExactly(
            "world hits=0 misses=3", "world hits=3 misses=0", "no-such-service failed NO_SUCH_SERVICE");
    assertThat(recorder.threads).noneMatch(t -> t.contains("-io"));
  }

  @Test
  void attachesAreRecordedAsJfrEvents(@TempDir Path dir) throws Exception {
    SnapshotStore store = cleanup.register(PublishingTest.memoryStore());
    PublishedClient client =
        PublishedClient.builder().store(store).expectedServerId(PublishingTest.ORIGIN).build();
    RemoteReference endpoint = connect();
    Path file = dir.resolve("attach.jfr");
    try (Recording recording = new Recording()) {
      recording.enable("io.pbj.Attach");
      recording.start();
      client.attach(endpoint, "world").get(10, TimeUnit.SECONDS);
      client.attach(newEndpoint(), "world").get(10, TimeUnit.SECONDS);
      recording.stop();
      recording.dump(file);
    }

    List<RecordedEvent> events =
        RecordingFile.readAllEvents(file).stream()
            .filter(e -> e.getEventType().getName().equals("io.pbj.Attach"))
            .sorted(java.util.Comparator.comparing(RecordedEvent::getStartTime))
            .toList();

    assertThat(events)
        .extracting(
            e -> e.getString("service") + " " + e.getInt("objects") + " " + e.getInt("hits") + " "
                + (e.getInt("inlined") + e.getInt("fetched")) + " " + e.getString("outcome"))
        .containsExactly("world 3 0 3 OK", "world 3 3 0 OK");
    assertThat(events.get(0).getString("serverId")).isEqualTo(PublishingTest.ORIGIN);
  }

  @Test
  void settingTheAttachListenerTwiceFailsNamingIt() {
    PublishedClient.Builder b = PublishedClient.builder().attachListener(new Recorder());
    assertThatThrownBy(() -> b.attachListener(new Recorder()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("attachListener");
  }
}
