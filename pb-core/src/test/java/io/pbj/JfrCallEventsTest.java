package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code io.pbj.Call} JFR event, recorded over real calls and read back from the file. */
class JfrCallEventsTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }

  @Test
  void callsAreRecordedOnBothSidesWithTheirOutcome(@TempDir Path dir) throws Exception {
    PbServer server = startServer();
    RemoteReference ref = connect(server);
    Path file = dir.resolve("calls.jfr");
    try (Recording recording = new Recording()) {
      recording.enable("io.pbj.Call").withThreshold(Duration.ZERO);
      recording.start();
      assertThat(get(ref.callRemote("echo", "recorded"))).isEqualTo("recorded");
      failureOf(ref.callRemote("fail", "recorded failure"));
      recording.stop();
      recording.dump(file);
    }

    List<RecordedEvent> events =
        RecordingFile.readAllEvents(file).stream()
            .filter(e -> e.getEventType().getName().equals("io.pbj.Call"))
            .toList();

    assertThat(events)
        .extracting(
            e -> e.getString("side") + " " + e.getString("method") + " " + e.getString("outcome"))
        .containsExactlyInAnyOrder(
            "CLIENT echo OK",
            "SERVER echo OK",
            "CLIENT fail REMOTE_FAILURE",
            "SERVER fail java.lang.IllegalStateException");
    RecordedEvent serverEcho =
        events.stream()
            .filter(e -> e.getString("side").equals("SERVER") && e.getString("method").equals("echo"))
            .findFirst()
            .orElseThrow();
    assertThat(serverEcho.getString("target")).isEqualTo(Fixtures.Root.class.getName());
    assertThat(serverEcho.getBoolean("oneWay")).isFalse();
    assertThat(serverEcho.getDuration().isNegative()).isFalse();
    assertThat(
            events.stream()
                .filter(e -> e.getString("method").equals("fail") && e.getString("side").equals("CLIENT"))
                .findFirst()
                .orElseThrow()
                .getString("failure"))
        .contains("recorded failure");
  }

  @Test
  void aCallSlowerThanTheDefaultThresholdIsRecordedWithoutSettings(@TempDir Path dir) throws Exception {
    PbServer server = startServer();
    RemoteReference ref = connect(server);
    Path file = dir.resolve("default.jfr");
    try (Recording recording = new Recording()) {
      recording.enable("io.pbj.Call"); // the event's own threshold: 10 ms
      recording.start();
      root.later = new java.util.concurrent.CompletableFuture<>();
      java.util.concurrent.CompletableFuture<Object> slow = ref.callRemote("later");
      // answered from a timer started when the server method runs, 50 ms on: over the threshold
      // on both sides, with no sleep here (a timer started at the send could fire before a slow
      // server ran the method, and the server's call would then be fast)
      root.laterCalled.thenRun(
          () ->
              java.util.concurrent.CompletableFuture.delayedExecutor(
                      50, java.util.concurrent.TimeUnit.MILLISECONDS)
                  .execute(() -> root.later.complete("late")));
      assertThat(get(slow)).isEqualTo("late");
      recording.stop();
      recording.dump(file);
    }

    List<String> methods =
        RecordingFile.readAllEvents(file).stream()
            .filter(e -> e.getEventType().getName().equals("io.pbj.Call"))
            .map(e -> e.getString("method"))
            .toList();

    // (that fast calls are left out is not asserted: on a loaded machine any call may take 10 ms)
    assertThat(methods).containsExactly("later", "later");
  }
}
