"""One experiment's phase-diagram table (replica means, mc, phases) and its curves."""

from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.taxonomy.experiment import PhaseRules, aggregate_cells

start_job(snakemake)
tables = {name: [read_table(path) for path in snakemake.input[name]]
          for name in ("training", "replicas", "pairs", "curve")}
cells, curves = aggregate_cells(snakemake.params.grid, tables, PhaseRules(**snakemake.params.phases),
                                experiment=snakemake.wildcards.experiment)
write_table(cells, snakemake.output.cells)
write_table(curves, snakemake.output.curves)
