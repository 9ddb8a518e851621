"""Warm sandboxes: pairs of containers started before their grading, one pool per grading process.

A grading that finds a pair of its shape ready skips the container start, the kernel start and the
environment's imports (about 2 s for a NumPy exercise, tens of seconds for TransformerLens). A pair
serves exactly one grading and is then removed (``driver.run``); the pool starts the next one in
the background. What is kept warm: for each environment, the shapes most recently asked for (at
first, those the worker expects), ``pairs`` pairs of each, while the idle pairs' measured memory
stays within ``memory_mb``. Pairs idle longer than ``max_idle_s`` are replaced by fresh ones; a
pair left unclaimed past that (its pool gone) ends itself. Pairs carry the owner label of this
process, so the reaper removes the pool of a killed worker. With no pair ready, the grading starts
its own pair (the cold path).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from sandbox import driver
from sandbox.driver import Pair, PairShape

log = logging.getLogger(__name__)
# How long a grading waits for a pair the pool is starting rather than start its own: a start takes
# the same time either way, and two at once only share the cores.
START_WAIT_S = 10.0
# How often warming pairs are looked at, and how long the pool sleeps when nothing is to do.
CHECK_EVERY_S = 0.2
IDLE_SLEEP_S = 5.0
# A refill waits while a grading of this process runs, at most this long: starting a pair takes
# seconds of both cores, which the grading would otherwise share.
REFILL_HOLD_S = 5.0
# After a pair failed to start (a daemon restart, a missing image), before the next try.
RETRY_AFTER_S = 10.0
# Before a shape's idle memory has been measured: what one pair is assumed to hold.
ASSUMED_PAIR_MB = 400.0


@dataclass(frozen=True)
class PoolSettings:
    """How much a grading process keeps warm (DESIGN.md, Warm sandboxes)."""

    # Pairs kept ready per shape: environment name -> count; "*" for every other environment.
    pairs: dict[str, int] = field(default_factory=lambda: {"*": 1})
    # Idle pairs of all shapes together hold at most this much memory.
    memory_mb: int = 3072
    # A pair idle this long is replaced (and ends itself a minute later if nobody removes it).
    max_idle_s: float = 600.0
    # Shapes (limits) kept warm per environment: the most recently asked for.
    shapes_per_environment: int = 2

    @classmethod
    def from_env(cls) -> PoolSettings:
        """``SANDBOX_WARM_PAIRS``: ``0`` (no pool), ``1`` (each environment) or ``base=2,mi=1``;
        ``SANDBOX_WARM_MEMORY_MB``; ``SANDBOX_WARM_MAX_IDLE_S``; ``SANDBOX_WARM_SHAPES``."""
        return cls(
            pairs=parse_pairs(os.environ.get("SANDBOX_WARM_PAIRS", "1")),
            memory_mb=int(os.environ.get("SANDBOX_WARM_MEMORY_MB", "3072")),
            max_idle_s=float(os.environ.get("SANDBOX_WARM_MAX_IDLE_S", "600")),
            shapes_per_environment=int(os.environ.get("SANDBOX_WARM_SHAPES", "2")),
        )

    def pairs_for(self, environment: str) -> int:
        return self.pairs.get(environment, self.pairs.get("*", 0))

    @property
    def enabled(self) -> bool:
        return self.memory_mb > 0 and any(n > 0 for n in self.pairs.values())


def parse_pairs(text: str) -> dict[str, int]:
    """``"2"`` -> every environment 2; ``"base=2,mi=1"`` -> those two, others none. ValueError otherwise."""
    text = text.strip()
    if not text:
        return {}
    if "=" not in text:
        return {"*": _count(text)}
    pairs = {}
    for item in text.split(","):
        name, sep, count = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"SANDBOX_WARM_PAIRS: {item!r} is not environment=count")
        pairs[name.strip()] = _count(count)
    return pairs


def _count(text: str) -> int:
    value = int(text.strip())
    if value < 0:
        raise ValueError(f"SANDBOX_WARM_PAIRS: {value} is negative")
    return value


@dataclass
class _Wanted:
    environment: str
    last_asked: float


class WarmPool:
    """The warm pairs of this process. ``take`` is called by gradings (any thread); one background
    thread starts, checks and recycles pairs."""

    def __init__(self, settings: PoolSettings) -> None:
        self.settings = settings
        self._cond = threading.Condition()
        self._idle: dict[PairShape, list[Pair]] = {}
        self._starting: Counter[PairShape] = Counter()
        self._wanted: dict[PairShape, _Wanted] = {}
        self._idle_mb: dict[PairShape, float] = {}
        self._closed = False
        self._changed = False  # something happened since the filler last looked
        self._claimed: dict[str, float] = {}  # pairs taken by gradings still running: name -> when
        self._thread = threading.Thread(target=self._fill, name="sandbox-warm-pool", daemon=True)
        self._thread.start()

    # --- gradings ---------------------------------------------------------------------------

    def expect(self, shape: PairShape, environment: str) -> None:
        """Keep pairs of ``shape`` warm from now on (a worker's exercises, before anyone submits)."""
        with self._cond:
            # Before anything asked, and each after those expected earlier: call the commonest first.
            self._wanted.setdefault(shape, _Wanted(environment, -float(len(self._wanted))))
            self._wake()

    def take(self, shape: PairShape, environment: str) -> Pair | None:
        """A pair of ``shape`` for one grading (warm ones first), or None: the grading starts its own."""
        deadline = time.monotonic() + START_WAIT_S
        with self._cond:
            self._wanted[shape] = _Wanted(environment, time.monotonic())
            self._wake()  # the filler refills behind this grading
            while not self._closed:
                pairs = self._idle.get(shape)
                if pairs:
                    pair = next((p for p in pairs if p.warm), pairs[0])
                    pairs.remove(pair)
                    self._claimed[pair.name] = time.monotonic()
                    self._wake()
                    log.debug("took %s pair %s (%.1f s old)", "warm" if pair.warm else "warming", pair.name, pair.age_s)
                    return pair
                remaining = deadline - time.monotonic()
                if not self._starting[shape] or remaining <= 0:
                    log.debug("no pair ready for %s: the grading starts its own", shape.image)
                    return None
                self._cond.wait(remaining)
        return None

    def done(self, pair: Pair) -> None:
        """The grading that took ``pair`` is over: refills need not wait for it."""
        with self._cond:
            if self._claimed.pop(pair.name, None) is not None:
                self._wake()

    def idle(self) -> dict[PairShape, int]:
        """Idle pairs per shape, warm or warming."""
        with self._cond:
            return {shape: len(pairs) for shape, pairs in self._idle.items() if pairs}

    def close(self) -> None:
        """Stop filling and remove every idle pair (a pair being started is removed once it is)."""
        with self._cond:
            self._closed = True
            pairs = [p for ps in self._idle.values() for p in ps]
            self._idle.clear()
            self._wake()
        for pair in pairs:
            driver.remove_later(pair.name)
        self._thread.join(timeout=60)
        driver.wait_removals()

    # --- the filler -------------------------------------------------------------------------

    def _wake(self) -> None:
        """Tell the filler (and waiting gradings) that the pool changed; called with the lock held."""
        self._changed = True
        self._cond.notify_all()

    def _fill(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                self._changed = False
                stale = self._take_stale()
                hold = self._hold_s()
                shape = self._next_to_start() if hold <= 0 else None
                if shape is not None:
                    self._starting[shape] += 1
            for pair in stale:
                driver.remove_later(pair.name)
            if shape is not None:
                self._start(shape)
                continue
            warming = self._check_warming()
            with self._cond:
                if not self._closed and not self._changed:
                    sleep = CHECK_EVERY_S if warming else IDLE_SLEEP_S
                    self._cond.wait(min(sleep, hold) if hold > 0 else sleep)

    def _hold_s(self) -> float:
        """How much longer refills wait for the gradings running in this process (0: not at all)."""
        if not self._claimed:
            return 0.0
        return max(0.0, max(self._claimed.values()) + REFILL_HOLD_S - time.monotonic())

    def _start(self, shape: PairShape) -> None:
        try:
            pair: Pair | None = driver.start_pair(shape, claim_wait_s=self.settings.max_idle_s + 60)
        except Exception:  # a grading then starts its own pair, and says what is wrong
            log.exception("could not start a warm sandbox of %s", shape.image)
            pair = None
        with self._cond:
            self._starting[shape] -= 1
            self._wake()
            if pair is None:
                if not self._closed:
                    self._cond.wait(RETRY_AFTER_S)  # not in a busy loop against a broken daemon
                return
            if not self._closed:
                log.debug("started pair %s", pair.name)
                self._idle.setdefault(shape, []).append(pair)
                return
        driver.remove_later(pair.name)  # the pool closed while it started

    def _take_stale(self) -> list[Pair]:
        """Idle pairs too old to keep, and those of shapes nobody wants any more, out of the pool."""
        keep = self._shapes_to_keep()
        stale = []
        for shape, pairs in self._idle.items():
            for pair in list(pairs):
                if shape not in keep or pair.age_s > self.settings.max_idle_s:
                    pairs.remove(pair)
                    stale.append(pair)
        return stale

    def _shapes_to_keep(self) -> dict[PairShape, int]:
        """Each wanted shape with how many pairs it gets: per environment the most recently asked for."""
        by_environment: dict[str, list[PairShape]] = {}
        for shape, wanted in sorted(self._wanted.items(), key=lambda item: -item[1].last_asked):
            by_environment.setdefault(wanted.environment, []).append(shape)
        keep = {}
        for environment, shapes in by_environment.items():
            count = self.settings.pairs_for(environment)
            for shape in shapes[: self.settings.shapes_per_environment]:
                if count > 0:
                    keep[shape] = count
        return keep

    def _next_to_start(self) -> PairShape | None:
        """The shape with the fewest pairs against its count, if the memory budget holds one more."""
        held = sum(self._pair_mb(shape) * len(pairs) for shape, pairs in self._idle.items())
        held += sum(self._pair_mb(shape) * n for shape, n in self._starting.items())
        candidates = []
        for shape, count in self._shapes_to_keep().items():
            have = len(self._idle.get(shape, ())) + self._starting[shape]
            if have < count and held + self._pair_mb(shape) <= self.settings.memory_mb:
                candidates.append((have, -self._wanted[shape].last_asked, shape))
        return min(candidates, key=lambda c: c[:2])[2] if candidates else None

    def _pair_mb(self, shape: PairShape) -> float:
        return self._idle_mb.get(shape, ASSUMED_PAIR_MB)

    def _check_warming(self) -> bool:
        """Mark pairs that have become warm (measuring a shape's first), drop dead ones; whether any still warm up."""
        with self._cond:
            warming = [p for ps in self._idle.values() for p in ps if not p.warm]
        still = False
        for pair in warming:
            state = driver.is_warm(pair)
            if state is None:
                log.warning("warm sandbox %s exited before its grading; removing it", pair.name)
                with self._cond:
                    if pair in self._idle.get(pair.shape, []):
                        self._idle[pair.shape].remove(pair)
                driver.remove_later(pair.name)
            elif state and pair.shape not in self._idle_mb:
                measured = driver.pair_memory_mb(pair)
                with self._cond:
                    if measured is not None:
                        self._idle_mb[pair.shape] = measured
            still = still or state is False
        return still


_installed: WarmPool | None = None
_installed_lock = threading.Lock()


def install(settings: PoolSettings) -> WarmPool | None:
    """Give this process a pool (a worker's grading process, once; None when the settings turn it off)."""
    global _installed
    with _installed_lock:
        if _installed is None and settings.enabled:
            _installed = WarmPool(settings)
        return _installed


def installed() -> WarmPool | None:
    """This process's pool, if it has one."""
    return _installed


def uninstall() -> None:
    """Remove this process's pool and its idle pairs (a worker process's shutdown)."""
    global _installed
    with _installed_lock:
        pool, _installed = _installed, None
    if pool is not None:
        pool.close()
