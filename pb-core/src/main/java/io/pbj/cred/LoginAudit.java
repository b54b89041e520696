package io.pbj.cred;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log of failed password logins, rate-limited so that an attack cannot flood it: the
 * first {@value #LINES_PER_KEY} failures per account and per address in an interval are logged one
 * line each (at most {@value #LINES_PER_INTERVAL} such lines per interval in all); when the
 * interval ends and some were not logged, a few summary lines give the counts, e.g. "40 failed
 * logins for account 'alice' in the last 60 s". Passwords and proofs never reach it: it is given
 * an account name, an address and an outcome.
 *
 * <p>Lines go to the WARN level of the logger {@value #LOGGER} unless a test gives a sink.
 *
 * <p>Thread-safety: thread-safe (state is guarded by this object's monitor; lines are written
 * outside it).
 */
final class LoginAudit {
  static final String LOGGER = "io.pbj.cred.audit";
  static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(60);
  static final int LINES_PER_KEY = 3;
  static final int LINES_PER_INTERVAL = 10;
  /** Summary lines per kind (accounts, addresses) at the end of an interval. */
  static final int TOP_KEYS = 5;
  /** Keys counted by name per kind and interval; more are counted together. */
  static final int MAX_TRACKED_KEYS = 1000;

  private static final Logger log = LoggerFactory.getLogger(LOGGER);

  private final LoginClock clock;
  private final Consumer<String> sink;

  @GuardedBy("this")
  private final Map<String, Integer> accounts = new HashMap<>();
  @GuardedBy("this")
  private final Map<String, Integer> addresses = new HashMap<>();
  @GuardedBy("this")
  private boolean intervalOpen;
  @GuardedBy("this")
  private long intervalStart;
  @GuardedBy("this")
  private int total;
  @GuardedBy("this")
  private int untrackedAccounts;
  @GuardedBy("this")
  private int untrackedAddresses;
  @GuardedBy("this")
  private int linesLogged;
  @GuardedBy("this")
  private int suppressed;

  LoginAudit(LoginClock clock, Consumer<String> sink) {
    this.clock = clock;
    this.sink = sink != null ? sink : log::warn;
  }

  /**
   * A failed password login. {@code account} may be null (no user name was given), {@code
   * address} is the throttle's address group or the connection's address.
   */
  void failed(String account, String address, String outcome) {
    String line = null;
    boolean schedule = false;
    synchronized (this) {
      if (!intervalOpen) {
        intervalOpen = true;
        intervalStart = clock.nanoTime();
        schedule = true;
      }
      total++;
      int perAccount = account == null ? 0 : count(accounts, account, true);
      int perAddress = count(addresses, address, false);
      if (linesLogged < LINES_PER_INTERVAL
          && perAccount <= LINES_PER_KEY
          && perAddress <= LINES_PER_KEY) {
        linesLogged++;
        line =
            "failed login"
                + (account == null ? "" : " for account " + quote(account))
                + " from " + address + ": " + outcome;
      } else {
        suppressed++;
      }
    }
    if (schedule) {
      clock.schedule(this::endInterval, INTERVAL_NANOS);
    }
    if (line != null) {
      sink.accept(line);
    }
  }

  /** A successful login, at DEBUG only. */
  void succeeded(String account, String address) {
    log.debug("login of account {} from {}", quote(account), address);
  }

  /** Adds one to {@code key}'s count and answers it (0 when the key is not tracked). */
  private int count(Map<String, Integer> counts, String key, boolean account) {
    Integer n = counts.get(key);
    if (n == null && counts.size() >= MAX_TRACKED_KEYS) {
      if (account) {
        untrackedAccounts++;
      } else {
        untrackedAddresses++;
      }
      return Integer.MAX_VALUE; // untracked keys are never logged one by one
    }
    int next = n == null ? 1 : n + 1;
    counts.put(key, next);
    return next;
  }

  /** Ends the interval: summary lines if anything went unlogged. */
  void endInterval() {
    List<String> lines = new java.util.ArrayList<>();
    synchronized (this) {
      if (!intervalOpen) {
        return;
      }
      long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(clock.nanoTime() - intervalStart));
      String last = " in the last " + seconds + " s";
      if (suppressed > 0) {
        lines.add(
            total + " failed logins" + last + " (" + suppressed + " not logged one by one), for "
                + (accounts.size() + (untrackedAccounts > 0 ? "+" : "")) + " accounts from "
                + (addresses.size() + (untrackedAddresses > 0 ? "+" : "")) + " addresses");
        top(accounts).forEach(
            e -> lines.add(e.getValue() + " failed logins for account " + quote(e.getKey()) + last));
        top(addresses).forEach(
            e -> lines.add(e.getValue() + " failed logins from address " + e.getKey() + last));
      }
      accounts.clear();
      addresses.clear();
      intervalOpen = false;
      total = 0;
      untrackedAccounts = 0;
      untrackedAddresses = 0;
      linesLogged = 0;
      suppressed = 0;
    }
    lines.forEach(sink);
  }

  private static List<Map.Entry<String, Integer>> top(Map<String, Integer> counts) {
    return counts.entrySet().stream()
        .filter(e -> e.getValue() > LINES_PER_KEY)
        .sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()))
        .limit(TOP_KEYS)
        .toList();
  }

  /** User names have no control characters (Scram.checkUsername), so quoting keeps a line one line. */
  private static String quote(String account) {
    return "'" + account + "'";
  }
}
