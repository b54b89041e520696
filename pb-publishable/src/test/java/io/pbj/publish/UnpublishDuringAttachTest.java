package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.PbClient;
import io.pbj.PbServer;
import io.pbj.RemoteReference;
import io.pbj.testing.PbCleanup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An object unpublished while an attach answer that lists it is being encoded (a live world
 * unpublishing as clients attach): the attach still completes, and the unpublish announced after
 * it takes the object out again. Before the fix the object, no longer in a service, was refused
 * as "sent outside an attach" and the whole attach failed with BAD_ARGUMENTS.
 */
class UnpublishDuringAttachTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  final String name = "pbj-unpublish-during-attach-" + UUID.randomUUID();
  final PublishingService service =
      PublishingService.builder().serverKey(TestKeys.key("origin-1")).service("world").build();

  @Test
  void anObjectUnpublishedWhileTheAttachAnswerIsEncodedDoesNotFailTheAttach() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ids.add("tile-" + i);
    }
    AtomicBoolean fired = new AtomicBoolean();
    List<Tile> tiles = new ArrayList<>();
    for (String id : ids) {
      // Taking the first state of the answer unpublishes every other object of the answer: the
      // ones encoded after it are no longer in a service when their turn comes.
      tiles.add(new Tile(id, "grass", 1, perspective -> {
        if (fired.compareAndSet(false, true)) {
          ids.stream().filter(other -> !other.equals(id)).forEach(service::unpublish);
        }
        return "";
      }));
    }
    service.publishAll(tiles);
    cleanup.register(PbServer.builder().inProcess(name).registry(LiveAttachmentTest.REGISTRY)
        .root(service.endpoint()).build().start());
    RemoteReference endpoint = cleanup.register(PbClient.builder().inProcess(name)
        .registry(LiveAttachmentTest.REGISTRY).build()).rootObject().join();

    Attachment a = PublishedClient.builder().store(cleanup.register(PublishingTest.memoryStore()))
        .expectedServerId(LiveAttachmentTest.ORIGIN).build().attach(endpoint, "world").join();

    assertThat(fired).isTrue();
    await().atMost(Duration.ofSeconds(10)).until(() -> a.objects().size() == 1);
    assertThat(a.unpublishedSinceAttach()).isEqualTo(9);
    assertThat(service.size()).isEqualTo(1);
    assertThat(a.objects().keySet()).containsExactlyElementsOf(
        service.get(a.objects().keySet().iterator().next()).map(p -> List.of(p.identity()))
            .orElseThrow());
  }
}
