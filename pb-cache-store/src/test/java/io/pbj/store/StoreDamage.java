package io.pbj.store;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/** Test helpers that write a known store and then damage its file in the ways disks and people do. */
final class StoreDamage {
  private StoreDamage() {}

  static Path file(Path dir, StoreBackend b, String name) {
    return dir.resolve(name + (b == StoreBackend.MAPDB ? ".db" : ".mv"));
  }

  static SnapshotKey key(int i) {
    return new SnapshotKey("hub:7000", "world", "guest", String.format("obj-%04d", i));
  }

  /** State that starts with a findable marker naming the key and version. */
  static Snapshot snapshot(int i, long version, int size) {
    byte[] state = new byte[size];
    new Random(i * 31L + version).nextBytes(state);
    byte[] marker = marker(i, version);
    System.arraycopy(marker, 0, state, 0, Math.min(marker.length, size));
    return Snapshot.of(version, 1, Instant.ofEpochMilli(1_700_000_000_000L + i * 1000L + version), state);
  }

  static byte[] marker(int i, long version) {
    return String.format("<<MARK-%04d-v%d>>", i, version).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  /** Every snapshot ever written per key, so a test can tell "old but real" from "wrong". */
  static final class Written {
    final Map<SnapshotKey, Set<Snapshot>> all = new HashMap<>();

    void put(SnapshotStore s, SnapshotKey k, Snapshot v) {
      s.put(k, v);
      all.computeIfAbsent(k, x -> new HashSet<>()).add(v);
    }

    boolean wasWritten(SnapshotKey k, Snapshot v) {
      return all.getOrDefault(k, Set.of()).contains(v);
    }

    List<SnapshotKey> keys() {
      return new ArrayList<>(all.keySet());
    }
  }

  /**
   * Two sessions: {@code n} keys at version 1 (committed in a few batches), then a third of them
   * rewritten at version 2 and a few removed, so the file holds history as well as live entries.
   */
  static Written writeStore(StoreBackend b, Path file, int n, int stateSize) {
    Written w = new Written();
    try (SnapshotStore s = SnapshotStore.builder().backend(b).path(file).build()) {
      for (int i = 0; i < n; i++) {
        w.put(s, key(i), snapshot(i, 1, stateSize + (i * 37) % stateSize));
        if (i % 50 == 49) {
          s.flush();
        }
      }
    }
    try (SnapshotStore s = SnapshotStore.builder().backend(b).path(file).build()) {
      for (int i = 0; i < n; i += 3) {
        w.put(s, key(i), snapshot(i, 2, stateSize));
      }
      for (int i = 1; i < n; i += 10) {
        s.remove(key(i));
      }
    }
    return w;
  }

  /** Offsets where {@code pattern} occurs in {@code data}. */
  static List<Integer> find(byte[] data, byte[] pattern) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i + pattern.length <= data.length; i++) {
      if (Arrays.equals(data, i, i + pattern.length, pattern, 0, pattern.length)) {
        out.add(i);
      }
    }
    return out;
  }

  /** Length of {@code data} without its trailing zeros (MapDB preallocates 1 MiB at a time). */
  static int usedLength(byte[] data) {
    int n = data.length;
    while (n > 0 && data[n - 1] == 0) {
      n--;
    }
    return n;
  }

  /** Overwrites bytes of a file in place, as a bad sector or a stray write would. */
  static void overwrite(Path file, long offset, byte[] bytes) {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(offset);
      f.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<Path> quarantined(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().contains(".damaged-")
          && !p.getFileName().toString().contains(".wal.")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One random kind of damage, described for the failure message. */
  static String damage(byte[] clean, Random r, Path target) throws IOException {
    byte[] d = clean.clone();
    int used = Math.max(64, usedLength(clean));
    String what;
    switch (r.nextInt(6)) {
      case 0 -> {
        int n = 1 + r.nextInt(16);
        for (int i = 0; i < n; i++) {
          d[r.nextInt(used)] ^= (byte) (1 << r.nextInt(8));
        }
        what = n + " flipped bits";
      }
      case 1 -> {
        int page = r.nextInt(Math.max(1, used / 4096));
        Arrays.fill(d, page * 4096, Math.min(d.length, page * 4096 + 4096), (byte) 0);
        what = "zeroed page " + page;
      }
      case 2 -> {
        int at = r.nextInt(used);
        int len = 1 + r.nextInt(4096);
        Arrays.fill(d, at, Math.min(d.length, at + len), (byte) 0);
        what = "zeroed " + len + " bytes at " + at;
      }
      case 3 -> {
        int at = r.nextInt(used);
        byte[] g = new byte[1 + r.nextInt(4096)];
        r.nextBytes(g);
        System.arraycopy(g, 0, d, at, Math.min(g.length, d.length - at));
        what = "garbage of " + g.length + " bytes at " + at;
      }
      case 4 -> {
        int len = r.nextInt(used);
        d = Arrays.copyOf(d, len);
        what = "truncated to " + len + " of " + clean.length;
      }
      default -> {
        int from = r.nextInt(used);
        int to = r.nextInt(used);
        int len = Math.min(1 + r.nextInt(4096), Math.min(d.length - from, d.length - to));
        System.arraycopy(clean, from, d, to, len);
        what = "misdirected write of " + len + " bytes from " + from + " to " + to;
      }
    }
    Files.write(target, d);
    return what;
  }
}
