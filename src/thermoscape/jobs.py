"""What every workflow script does first: log to the rule's log file, set threads, pick the device.

Takes the ``snakemake`` object Snakemake injects into scripts; imports nothing from Snakemake.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import torch

from thermoscape.device import configure_threads, select_device


def start_job(job: Any) -> torch.device:
    if len(job.log):
        sys.stderr = open(job.log[0], "w", buffering=1)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s")
    configure_threads(job.threads)
    device = select_device(getattr(job.params, "device", "auto"))
    logging.info("rule %s on %s with %d thread(s)", job.rule, device, job.threads)
    return device
