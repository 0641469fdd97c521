"""The data set with uniform noise on every training pixel (Yang et al. Fig. 21, App. D.6), fixed once (seed
taxonomy.pixel_noise.seed) and shared by every replica of the cells with this pixel_noise."""

from thermoscape.core.jobs import start_job
from thermoscape.data.noise import add_pixel_noise
from thermoscape.data.readers import read_split, write_split

start_job(snakemake)
split = add_pixel_noise(read_split(snakemake.input[0]), float(snakemake.wildcards.u), snakemake.params.seed)
write_split(split, snakemake.output[0])
