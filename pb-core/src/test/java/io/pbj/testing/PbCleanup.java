package io.pbj.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.pbj.PbClient;
import io.pbj.PbServer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Closes every server and client a test registered, in reverse order, and fails the test if they
 * do not terminate or if Netty reported a leaked buffer while it ran (leak detection runs at
 * {@code paranoid} in this build).
 *
 * <pre>{@code
 * @RegisterExtension final PbCleanup cleanup = new PbCleanup();
 * PbServer server = cleanup.register(PbServer.builder()...build().start());
 * }</pre>
 *
 * <p>Thread-safety: register from any thread; cleanup runs after each test.
 */
public final class PbCleanup implements AfterEachCallback {
  private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

  static {
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
  }

  private final Deque<AutoCloseable> resources = new ArrayDeque<>();

  public synchronized <T extends AutoCloseable> T register(T resource) {
    resources.push(resource);
    return resource;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    AutoCloseable r;
    while ((r = pop()) != null) {
      if (r instanceof PbClient client) {
        client.shutdown();
        assertThat(client.awaitTermination(Duration.ofSeconds(10)))
            .as("client terminated")
            .isTrue();
      } else if (r instanceof PbServer server) {
        server.shutdown();
        assertThat(server.awaitTermination(Duration.ofSeconds(10)))
            .as("server terminated")
            .isTrue();
      } else {
        r.close();
      }
    }
    // Give the detector a chance to see buffers that became unreachable during the test.
    System.gc();
    for (int i = 0; i < 64; i++) {
      ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(16);
      b.release();
    }
    assertThat(LEAKS).as("Netty buffer leaks").isEmpty();
  }

  private synchronized AutoCloseable pop() {
    return resources.poll();
  }

  private static final class RecordingFactory extends ResourceLeakDetectorFactory {
    @Override
    @SuppressWarnings("deprecation")
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(
        Class<T> resource, int samplingInterval, long maxActive) {
      return new ResourceLeakDetector<T>(resource, samplingInterval) {
        @Override
        protected void reportTracedLeak(String resourceType, String records) {
          LEAKS.add(resourceType + " leaked:" + records);
          super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
          LEAKS.add(resourceType + " leaked");
          super.reportUntracedLeak(resourceType);
        }
      };
    }
  }
}
