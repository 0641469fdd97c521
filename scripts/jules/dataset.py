from thermoscape.data.tables import gaussian_classification
from thermoscape.core.io import write_table
from thermoscape.core.jobs import start_job
from thermoscape.core.seeds import derive_seed

start_job(snakemake)
cfg = snakemake.params.dataset
table = gaussian_classification(
    cfg["n_samples"], cfg["dim"], cfg["n_classes"], derive_seed(snakemake.params.seed, "dataset")
)
write_table(table, snakemake.output[0])
