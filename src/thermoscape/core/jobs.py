"""What every workflow script does first: log to the rule's log file, set threads, pick the device.

Takes the ``snakemake`` object Snakemake injects into scripts; imports nothing from Snakemake. Torch is only
touched when the script has imported it already: table, figure and claims jobs then skip its import, which
costs seconds per job.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def start_job(job: Any) -> torch.device | None:
    """Logging to the job's log, ``job.threads`` threads, and the device of ``job.params.device`` (default
    ``auto``); ``None`` when the script does not use torch."""
    if len(job.log):
        sys.stderr = open(job.log[0], "w", buffering=1)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s")
    if "torch" not in sys.modules:
        logging.info("rule %s with %d thread(s)", job.rule, job.threads)
        return None
    from thermoscape.core.device import configure_threads, select_device

    configure_threads(job.threads)
    device = select_device(getattr(job.params, "device", "auto"))
    logging.info("rule %s on %s with %d thread(s)", job.rule, device, job.threads)
    return device


class ProgressLog:
    """A log line every ``every`` seconds (and at the end) while a long loop runs: done / total, the rate and
    the ETA, e.g. ``replica 0 Adam: 52000/200000 steps (26%), 4310 steps/s, ETA 34 s``.

    Call it with the number done so far (absolute, not an increment); ``total`` is the most there can be (a
    run that converges stops earlier, so its ETA is an upper bound). ``clock`` is injectable for tests."""

    def __init__(self, total: float, what: str, unit: str = "steps", every: float | None = None, clock=None):
        import os
        import time

        # THERMOSCAPE_PROGRESS_EVERY (seconds) overrides the default of 10 s, e.g. 0 for a line per update
        every = float(os.environ.get("THERMOSCAPE_PROGRESS_EVERY", 10.0)) if every is None else every
        self.total, self.what, self.unit, self.every = float(total), what, unit, every
        self.clock = clock or time.monotonic
        self.start = self.last = self.clock()
        self.done = 0.0

    def __call__(self, done: float) -> None:
        self.done = float(done)
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            logging.info("%s", self.line(now))

    def line(self, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        remaining = max(self.total - self.done, 0.0)
        eta = f"ETA {remaining / rate:.0f} s" if rate > 0 else "ETA unknown"
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total > 0 else ""
        return f"{self.what}: {self.done:.0f}/{self.total:.0f} {self.unit}{share}, {rate:.3g} {self.unit}/s, {eta}"

    def finish(self) -> None:
        logging.info("%s", self.line())
