package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.store.SnapshotKey;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Server keys, their self-certifying ids and their files. */
class ServerKeyTest {
  @TempDir Path dir;

  @Test
  void theIdIsDerivedFromThePublicKeyAndFitsAReferenceAndAStoreKey() {
    ServerKey key = ServerKey.generate();
    String id = key.serverId();
    assertThat(id).matches("pbj1-[a-z2-7]{52}").hasSize(ServerKey.ID_LENGTH);
    assertThat(ServerKey.serverIdOf(key.publicKey())).isEqualTo(id);
    assertThat(ServerKey.isSelfCertifying(id)).isTrue();
    assertThat(ServerKey.isSelfCertifying("world-eu-1")).isFalse();
    assertThat(ServerKey.isSelfCertifying(id.toUpperCase())).isFalse();
    assertThat(ServerKey.generate().serverId()).isNotEqualTo(id);
    PbUrl url = PbUrl.parse("pb://" + id + "@example.com:7000/world/tile-1");
    assertThat(url.serverId()).isEqualTo(id);
    assertThat(url.toString()).contains(id);
    assertThat(new SnapshotKey(id, "world", "anonymous", "tile-1").server()).isEqualTo(id);
    assertThat(key.toString()).isEqualTo("ServerKey[" + id + "]");
  }

  @Test
  void aWrittenKeyReadsBackWithItsIdAndIsForItsOwnerOnly() throws Exception {
    Path file = dir.resolve("server-key.pem");
    ServerKey created = ServerKey.readOrCreate(file);
    String text = Files.readString(file);
    assertThat(text).contains("# " + created.serverId())
        .contains("-----BEGIN PRIVATE KEY-----").contains("-----BEGIN PUBLIC KEY-----");
    if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
          .isEqualTo("rw-------");
    }
    assertThat(ServerKey.readOrCreate(file)).isEqualTo(created);
    assertThat(ServerKey.read(file).serverId()).isEqualTo(created.serverId());
    assertThat(Files.list(dir)).as("no temporary file left").containsExactly(file);

    assertThatThrownBy(() -> ServerKey.generate().write(file))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("never overwritten");
    assertThat(Files.readString(file)).isEqualTo(text);
  }

  @Test
  void serversStartingAtOnceOnOneKeyFileAllGetTheIdThatIsInTheFile() throws Exception {
    // Before, a second start's move replaced the first's file: the first kept running with an id
    // that was no longer on disk, and changed it at its next start.
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      for (int round = 0; round < 20; round++) {
        Path file = dir.resolve("key-" + round + ".pem");
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> ids = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          ids.add(pool.submit(() -> {
            go.await();
            return ServerKey.readOrCreate(file).serverId();
          }));
        }
        go.countDown();
        String onDisk = null;
        for (Future<String> id : ids) {
          String got = id.get(30, TimeUnit.SECONDS);
          onDisk = onDisk == null ? ServerKey.read(file).serverId() : onDisk;
          assertThat(got).as("round %d", round).isEqualTo(onDisk);
        }
      }
      try (Stream<Path> files = Files.list(dir)) {
        assertThat(files.filter(f -> f.toString().endsWith(".tmp")))
            .as("no temporary file left").isEmpty();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aBadKeyFileIsRefusedNamingTheFileAndTheProblem() throws Exception {
    Path good = dir.resolve("good.pem");
    ServerKey.generate().write(good);
    String text = Files.readString(good);
    String otherPublic = Files.readString(write("other.pem", ServerKey.generate()))
        .replaceAll("(?s).*(-----BEGIN PUBLIC KEY-----.*)", "$1");
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    KeyPair ecPair = ec.generateKeyPair();
    String ecPrivate = "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getEncoder().encodeToString(ecPair.getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n";

    String[][] cases = {
        {"hello", "has no BEGIN PRIVATE KEY block"},
        {text.replaceAll("(?s)-----BEGIN PUBLIC KEY-----.*", ""), "has no BEGIN PUBLIC KEY block"},
        {text.replaceAll("(?s)-----BEGIN PUBLIC KEY-----.*", "") + otherPublic,
            "the private key and the public key are not one pair"},
        {text + text, "has more than one BEGIN PRIVATE KEY block"},
        {text.replace("-----END PRIVATE KEY-----", ""), "has no END PRIVATE KEY line"},
        {text.replaceFirst("-----BEGIN PRIVATE KEY-----\n", "-----BEGIN PRIVATE KEY-----\n%%"),
            "PRIVATE KEY block is not base64"},
        {ecPrivate + text.replaceAll("(?s).*(-----BEGIN PUBLIC KEY-----.*)", "$1"),
            "is not an Ed25519 PKCS#8 key"},
        {text.replaceAll("(?s)-----BEGIN PUBLIC KEY-----.*", "")
            + "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "PUBLIC KEY block is not an Ed25519 public key"},
        {"#".repeat(ServerKey.MAX_FILE_BYTES + 1), "more than a key file's 16384"},
    };
    for (String[] c : cases) {
      Path file = dir.resolve("bad.pem");
      Files.writeString(file, c[0]);
      assertThatThrownBy(() -> ServerKey.read(file))
          .as(c[1])
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("server key file " + file)
          .hasMessageContaining(c[1]);
      assertThatThrownBy(() -> ServerKey.readOrCreate(file)).hasMessageContaining(c[1]);
      assertThat(Files.readString(file)).as("a bad file is left as it was").isEqualTo(c[0]);
    }
    Path binary = dir.resolve("binary.pem");
    Files.write(binary, new byte[] {(byte) 0xff, (byte) 0xfe, 0});
    assertThatThrownBy(() -> ServerKey.read(binary)).hasMessageContaining("is not text");
    assertThatThrownBy(() -> ServerKey.read(dir.resolve("missing.pem")))
        .isInstanceOf(UncheckedIOException.class).hasMessageContaining("missing.pem");
  }

  @Test
  void keysAreEd25519PairsOnly() throws Exception {
    KeyPair a = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    KeyPair b = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    assertThat(ServerKey.of(a.getPrivate(), a.getPublic()).serverId())
        .isEqualTo(ServerKey.serverIdOf(a.getPublic()));
    assertThatThrownBy(() -> ServerKey.of(a.getPrivate(), b.getPublic()))
        .hasMessageContaining("not one pair");
    KeyPair ec = KeyPairGenerator.getInstance("EC").generateKeyPair();
    assertThatThrownBy(() -> ServerKey.of(ec.getPrivate(), ec.getPublic()))
        .hasMessageContaining("must be Ed25519, not EC");
    assertThatThrownBy(() -> ServerKey.serverIdOf(ec.getPublic())).hasMessageContaining("not EC");
  }

  @Test
  void theServiceBuilderTakesAKeyOrAnUnprovenIdThatIsNotSelfCertifying() {
    ServerKey key = ServerKey.generate();
    PublishingService proven = PublishingService.builder().serverKey(key).service("w").build();
    assertThat(proven.serverId()).isEqualTo(key.serverId());
    assertThat(proven.isProven()).isTrue();
    PublishingService claimed =
        PublishingService.builder().unprovenServerId("lan-1").service("w").build();
    assertThat(claimed.serverId()).isEqualTo("lan-1");
    assertThat(claimed.isProven()).isFalse();

    assertThatThrownBy(() -> PublishingService.builder().unprovenServerId(key.serverId()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unprovenServerId " + key.serverId())
        .hasMessageContaining("self-certifying");
    assertThatThrownBy(() -> PublishingService.builder().serverKey(key).unprovenServerId("x")
            .service("w").build())
        .hasMessageContaining("serverKey and unprovenServerId conflict");
    assertThatThrownBy(() -> PublishingService.builder().service("w").build())
        .hasMessageContaining("needs a serverKey");
    assertThatThrownBy(
            () -> PublishingService.builder().delegationLifetime(java.time.Duration.ZERO))
        .hasMessageContaining("delegationLifetime must be positive, got PT0S");
    assertThatThrownBy(() -> PublishedClient.builder().allowUnprovenServerIds()
            .allowUnprovenServerIds())
        .hasMessageContaining("allowUnprovenServerIds was already set");
  }

  private Path write(String name, ServerKey key) {
    Path file = dir.resolve(name);
    key.write(file);
    return file;
  }
}
