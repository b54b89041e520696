package io.pbj.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The "108 damaged-store attaches" experiment of tracker issue 9 as a test: one store is written,
 * then copies of its file are damaged at random (flipped bits, zeroed pages and runs, garbage,
 * truncation, misdirected writes; see {@link StoreDamage#damage}) and each copy is attached to
 * the way a client does: list, get everything, getAll, verify, put. Every round, for every
 * backend:
 *
 * <ul>
 *   <li>with quarantine off (the inspector's mode) nothing but a {@link StoreException} escapes;
 *   <li>with quarantine on nothing escapes at all;
 *   <li>every snapshot returned is one that was written for that key (an older version is real
 *       data; anything else is a wrong object);
 *   <li>after a failure the store is usable: quarantined and empty, or serving what is intact,
 *       and a put reads back;
 *   <li>the next session opens without a quarantine: the client is never stranded.
 * </ul>
 *
 * <p>Seeded and reproducible: {@code -Dpbj.damage.seed=N} (default fixed), rounds per backend
 * {@code -Dpbj.damage.rounds=N} (default 40 MVStore, 12 MapDB, a few seconds; MapDB sessions
 * cost an fsync-heavy file creation per quarantine). The tally is printed to stdout and stderr.
 */
class DamageLoopTest {
  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void randomDamageNeverGivesAWrongSnapshotNorAnExceptionAndNeverStrandsTheClient(StoreBackend b)
      throws Exception {
    int rounds = Integer.getInteger("pbj.damage.rounds", b == StoreBackend.MAPDB ? 12 : 40);
    long seed = Long.getLong("pbj.damage.seed", 20_261_202L);
    Random random = new Random(seed * 31 + b.ordinal());
    Path golden = StoreDamage.file(dir, b, "golden");
    StoreDamage.Written w = StoreDamage.writeStore(b, golden, 60, 300);
    byte[] clean = Files.readAllBytes(golden);
    List<SnapshotKey> keys = w.keys();

    int refusedWithoutQuarantine = 0;
    int quarantinedAtOpen = 0;
    int quarantinedLater = 0;
    int servedAll = 0;
    int servedSome = 0;
    int checksumMisses = 0;
    for (int round = 0; round < rounds; round++) {
      Path file = StoreDamage.file(dir, b, "r" + round);
      String what = StoreDamage.damage(clean, random, file);
      String context = String.format("%s round %d (seed %d): %s", b, round, seed, what);

      // The inspector's mode first, on a copy: only StoreException may come out.
      Path copy = StoreDamage.file(dir, b, "r" + round + "-inspect");
      Files.copy(file, copy);
      try (SnapshotStore s = SnapshotStore.builder().backend(b).path(copy).quarantineDamaged(false).build()) {
        attach(s, w, keys, context);
        s.verify();
      } catch (StoreException e) {
        refusedWithoutQuarantine++;
      } catch (RuntimeException | Error e) {
        throw new AssertionError(context + ": with quarantine off, " + e + " escaped", e);
      }

      int quarantinedBefore = StoreDamage.quarantined(dir).size();
      try (SnapshotStore s = SnapshotStore.builder().backend(b).path(file).build()) {
        boolean atOpen = s.stats().quarantines() > 0;
        attach(s, w, keys, context);
        VerifyResult v = s.verify();
        StoreStats st = s.stats();
        if (st.quarantines() > 0) {
          assertThat(s.list(SnapshotPrefix.all())).as("%s: quarantined store holds nothing", context).isEmpty();
          if (atOpen) {
            quarantinedAtOpen++;
          } else {
            quarantinedLater++;
          }
        } else if (st.checksumFailures() > 0 || !v.ok()) {
          servedSome++;
          checksumMisses += (int) st.checksumFailures();
        } else {
          servedAll++;
        }
        SnapshotKey probe = StoreDamage.key(9000 + round);
        Snapshot probed = StoreDamage.snapshot(9000 + round, 1, 64);
        w.put(s, probe, probed);
        assertThat(s.get(probe)).as("%s: a put reads back", context).contains(probed);
      } catch (RuntimeException | Error e) {
        throw new AssertionError(context + ": with quarantine on, " + e + " escaped", e);
      }
      assertThat(StoreDamage.quarantined(dir).size() - quarantinedBefore)
          .as("%s: files moved aside in the session", context).isLessThanOrEqualTo(1);

      // The next session must not fail the same way.
      int before = StoreDamage.quarantined(dir).size();
      try (SnapshotStore s = SnapshotStore.builder().backend(b).path(file).build()) {
        attach(s, w, keys, context + " (next session)");
        assertThat(s.stats().quarantines()).as("%s: next session quarantined again", context).isZero();
      } catch (RuntimeException | Error e) {
        throw new AssertionError(context + ": next session let " + e + " escape", e);
      }
      assertThat(StoreDamage.quarantined(dir)).as("%s: next session", context).hasSize(before);
    }
    String tally = String.format(
        "DAMAGE LOOP %s: %d damaged attaches (seed %d): %d refused with quarantine off; with it on"
            + " %d quarantined at open, %d quarantined on a later read, %d served every entry, %d"
            + " served the intact ones (%d checksum misses); 0 wrong snapshots, 0 escaped exceptions",
        b, rounds, seed, refusedWithoutQuarantine, quarantinedAtOpen, quarantinedLater, servedAll,
        servedSome, checksumMisses);
    System.out.println(tally);
    System.err.println(tally);
  }

  /** What a client's attach does: the inventory, every get, one getAll; checks every answer. */
  private static void attach(SnapshotStore s, StoreDamage.Written w, List<SnapshotKey> keys, String context) {
    for (SnapshotEntry e : s.list(SnapshotPrefix.all())) {
      s.get(e.key()).ifPresent(v -> assertThat(w.wasWritten(e.key(), v))
          .as("%s: listed %s returned %s", context, e.key(), v).isTrue());
    }
    for (SnapshotKey k : keys) {
      s.get(k).ifPresent(v -> assertThat(w.wasWritten(k, v)).as("%s: %s returned %s", context, k, v).isTrue());
    }
    s.getAll(keys).forEach((k, v) -> assertThat(w.wasWritten(k, v)).as("%s: getAll %s", context, k).isTrue());
  }
}
