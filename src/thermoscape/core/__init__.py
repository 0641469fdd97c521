"""Infrastructure every job and the DAG build use: config validation, grids, atomic I/O, seeds, device, job start-up.

Torch-free at import (but ``device``, which ``jobs`` loads only in a script that has imported torch), so that
building the DAG stays fast."""
