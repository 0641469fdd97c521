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
