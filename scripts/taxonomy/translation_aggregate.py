"""The machine-translation tables: Fig. 18's cells (replica means, mc of the training loss, phases) and
curves, and Fig. 19's per-schedule table (final and best-during-training test BLEU)."""

import pandas as pd

from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.taxonomy.experiment import PhaseRules
from thermoscape.studies.taxonomy.translation import schedule_cells, translation_cells

start_job(snakemake)
params = snakemake.params
tables = {name: [read_table(path) for path in snakemake.input[name]] for name in ("training", "replicas", "pairs", "curve")}
cells, curves = translation_cells(params.grid, tables, PhaseRules(**params.phases))
write_table(cells, snakemake.output.cells)
write_table(curves, snakemake.output.curves)
histories = [read_table(path) for path in snakemake.input.histories]
parts, start = [], 0
for schedule, grid in params.schedules.items():
    parts.append(schedule_cells(grid, histories[start : start + len(grid)]).assign(schedule_name=schedule))
    start += len(grid)
write_table(pd.concat(parts, ignore_index=True), snakemake.output.schedules)
