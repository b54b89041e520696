package io.pbj.cred;

import com.google.common.hash.HashFunction;
import com.google.common.hash.Hashing;
import com.google.common.net.InetAddresses;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;

/**
 * Failed-login counts shared by every connection of one portal, by account name and by remote
 * address, which delay and then refuse password logins (docs/LOGIN.md, "Limits").
 *
 * <p><b>Counting.</b> Each key has a leaky bucket kept as one number, its "theoretical arrival
 * time" (GCRA): a failure adds {@code window / maxFailures} to it, time drains it, and the score
 * is how many failures it holds now. A key at {@code maxFailures} is refused until a failure's
 * worth has drained; so an attack gets at most {@code maxFailures} password checks per key at
 * once and one more per {@code window / maxFailures} after that, however many connections it
 * uses.
 *
 * <p><b>Keys.</b> Account names, known or unknown alike (so the throttle says nothing about which
 * exist), and addresses grouped as an IPv4 address or an IPv6 /64, are hashed with SipHash under
 * a per-portal key: a table entry holds two longs whatever the name's length, the tables keep no
 * user names, and an attacker cannot choose names that collide.
 *
 * <p><b>Memory.</b> Accounts and addresses each have a table of {@code capacity} slots of two
 * longs, allocated once. A full table must evict, and evicting a count resets it; least recently
 * used eviction would let an attacker flush a count they built up on one account with a flood of
 * cheap new names. So eviction goes by count instead: a new key replaces the key holding the
 * fewest failures among the {@value Table#WAYS} slots its hash may use. A flood of one-failure
 * names only evicts keys with as few failures; to evict a key holding {@code n} failures, an
 * attacker must first give about {@code capacity} keys {@code n} failures each (e.g. 65,536 x 10
 * failed logins, themselves limited per address), and then gains {@code n} guesses.
 * Guava's cache evicts by recency, hence this table. (Folding evicted counts into a max-sketch
 * instead would not do: names that inherit a collided estimate fold it back one failure higher,
 * and a flood ratchets innocent names' counts up to the limit.)
 *
 * <p>Thread-safety: thread-safe.
 */
final class LoginThrottle {
  /** Failures per key answered without delay; the delay doubles from the next one. */
  static final int FREE_FAILURES = 3;

  /** {@code maxFailures} failed logins per key, draining one per {@code window / maxFailures}. */
  record Limit(int maxFailures, Duration window) {}

  private final LoginClock clock;
  private final long origin;
  private final Table accounts;
  private final Table addresses;
  private final long delayBase;
  private final long delayMax;
  private final HashFunction hash;
  private final LongAdder passwordChecks = new LongAdder();

  LoginThrottle(
      Limit account,
      Limit address,
      Duration delayBase,
      Duration delayMax,
      int capacity,
      byte[] secret,
      LoginClock clock) {
    this.clock = clock;
    this.origin = clock.nanoTime();
    this.accounts = new Table(account, capacity);
    this.addresses = new Table(address, capacity);
    this.delayBase = delayBase.toNanos();
    this.delayMax = delayMax.toNanos();
    ByteBuffer key =
        ByteBuffer.wrap(Scram.hmac(secret, "pbj-login-throttle".getBytes(StandardCharsets.UTF_8)));
    this.hash = Hashing.sipHash24(key.getLong(), key.getLong());
  }

  /** The throttle key of an account name; the same function whether the account exists or not. */
  long accountKey(String name) {
    return hash.hashString(name, StandardCharsets.UTF_8).asLong();
  }

  /** The throttle key of an address group ({@link #addressGroup}). */
  long addressKey(String group) {
    return hash.hashString(group, StandardCharsets.UTF_8).asLong();
  }

  /**
   * How connections are grouped by address: an IPv4 address as itself, an IPv6 address by its /64
   * prefix (the smallest block a site is normally given, so one host cannot escape its count by
   * changing the low 64 bits); null when the connection has no IP address (the in-process
   * transport), which is throttled by account only.
   */
  static String addressGroup(SocketAddress address) {
    if (!(address instanceof InetSocketAddress socket) || socket.getAddress() == null) {
      return null;
    }
    InetAddress ip = socket.getAddress();
    if (!(ip instanceof Inet6Address)) {
      return ip.getHostAddress();
    }
    byte[] bytes = ip.getAddress();
    Arrays.fill(bytes, 8, 16, (byte) 0);
    try {
      return InetAddresses.toAddrString(InetAddress.getByAddress(bytes)) + "/64";
    } catch (UnknownHostException e) {
      throw new AssertionError("16 bytes are an IPv6 address", e);
    }
  }

  /**
   * Admits a {@code scramStart}: refused (false) while the account or the address is at its
   * limit; otherwise the address is charged one attempt, which a successful login gives back. So
   * challenges never answered count against the address like failed logins.
   */
  boolean admitStart(long account, Long address) {
    long now = now();
    if (accounts.score(account, now) >= accounts.maxFailures) {
      return false;
    }
    return address == null || addresses.tryCharge(address, now);
  }

  /**
   * Admits a proof check: charges the account one failure, given back by {@link #succeeded}
   * (which resets it); false, without a check, while the account is at its limit.
   */
  boolean admitProof(long account) {
    return accounts.tryCharge(account, now());
  }

  /**
   * A successful login: the account's count starts over (only the password's owner can do this);
   * the address only gets back the attempt its {@code scramStart} was charged, because resetting
   * it would let an attacker with one account of their own clear their address's count by logging
   * in between guesses.
   */
  void succeeded(long account, Long address) {
    long now = now();
    accounts.reset(account);
    if (address != null) {
      addresses.refund(address, now);
    }
  }

  /** The delay before a failed login's answer, from the account's and the address's counts. */
  long failureDelayNanos(long account, Long address) {
    long now = now();
    int failures = accounts.score(account, now);
    if (address != null) {
      failures = Math.max(failures, addresses.score(address, now));
    }
    return delayFor(failures);
  }

  long delayFor(int failures) {
    if (failures <= FREE_FAILURES || delayBase == 0) {
      return 0;
    }
    int doublings = failures - FREE_FAILURES - 1;
    if (doublings >= Long.numberOfLeadingZeros(delayBase) - 1) {
      return delayMax;
    }
    return Math.min(delayMax, delayBase << doublings);
  }

  void countPasswordCheck() {
    passwordChecks.increment();
  }

  /** Proofs checked so far: logins that got past the throttle to the password check. */
  long passwordChecks() {
    return passwordChecks.sum();
  }

  int accountScore(long account) {
    return accounts.score(account, now());
  }

  int addressScore(long address) {
    return addresses.score(address, now());
  }

  /** Keys holding failures now, accounts and addresses together. */
  long entries() {
    long now = now();
    return accounts.entries(now) + addresses.entries(now);
  }

  /** Slots per table, fixed at construction: the throttle's memory is two longs a slot. */
  int capacity() {
    return accounts.capacity();
  }

  /** Never below 1, so 0 means "empty" in the tables. */
  private long now() {
    return clock.nanoTime() - origin + 1;
  }

  /**
   * One kind of key: its limit and a fixed table of {@code capacity} slots (a key and its bucket,
   * two longs), in sets of {@value #WAYS} chosen by the key's hash. A slot whose bucket is empty
   * is free. A new key takes a free slot of its set, or else the one holding the fewest failures
   * (the oldest of those): so cheap keys evict cheap keys, and evicting a key that holds {@code n}
   * failures takes filling its whole set with keys holding as many, which the keyed hash lets
   * nobody aim at one set.
   *
   * <p>Thread-safety: guarded by this object's monitor.
   */
  private static final class Table {
    static final int WAYS = 8;

    final int maxFailures;
    final long unit;
    private final int sets;
    private final long[] keys;
    private final long[] tats;

    Table(Limit limit, int capacity) {
      this.maxFailures = limit.maxFailures();
      this.unit = Math.max(1, limit.window().toNanos() / limit.maxFailures());
      this.sets = Math.max(1, capacity / WAYS);
      this.keys = new long[sets * WAYS];
      this.tats = new long[sets * WAYS];
    }

    synchronized int score(long key, long now) {
      int slot = find(key);
      return slot < 0 ? 0 : failuresIn(tats[slot], now);
    }

    /** The failures a bucket holding {@code tat} still counts at {@code now}, rounded up. */
    int failuresIn(long tat, long now) {
      return tat <= now ? 0 : (int) Math.min(Integer.MAX_VALUE, (tat - now + unit - 1) / unit);
    }

    /** Adds one failure unless the key is at its limit; false when refused. */
    synchronized boolean tryCharge(long key, long now) {
      int slot = find(key);
      long base = slot < 0 ? now : Math.max(tats[slot], now);
      if (failuresIn(base, now) >= maxFailures) {
        return false;
      }
      if (slot < 0) {
        slot = claim(key, now);
      }
      tats[slot] = base + unit;
      return true;
    }

    synchronized void refund(long key, long now) {
      int slot = find(key);
      if (slot >= 0) {
        tats[slot] = Math.max(now, tats[slot] - unit);
      }
    }

    synchronized void reset(long key) {
      int slot = find(key);
      if (slot >= 0) {
        tats[slot] = 0;
      }
    }

    synchronized long entries(long now) {
      long n = 0;
      for (long tat : tats) {
        if (tat > now) {
          n++;
        }
      }
      return n;
    }

    int capacity() {
      return keys.length;
    }

    private int find(long key) {
      int first = first(key);
      for (int i = first; i < first + WAYS; i++) {
        if (keys[i] == key && tats[i] != 0) {
          return i;
        }
      }
      return -1;
    }

    /** A slot for a key not in the table: a free one, or the one holding the fewest failures. */
    private int claim(long key, long now) {
      int first = first(key);
      int victim = first;
      for (int i = first; i < first + WAYS; i++) {
        if (tats[i] <= now) {
          victim = i;
          break;
        }
        if (tats[i] < tats[victim]) {
          victim = i;
        }
      }
      keys[victim] = key;
      return victim;
    }

    private int first(long key) {
      return (int) Long.remainderUnsigned(key, sets) * WAYS;
    }
  }
}
