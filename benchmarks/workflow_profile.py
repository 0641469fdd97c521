"""Where a workflow run's time went: one row per rule from the ``benchmark:`` files of its jobs.

    python benchmarks/workflow_profile.py [results]      # after `snakemake --profile profiles/local`

Every heavy rule writes Snakemake's ``benchmark:`` table to ``<results>/benchmarks/<rule>/<job>.tsv``
(wall seconds ``s``, peak ``max_rss`` in MB, ``cpu_time`` in seconds). The table lists, per rule, the jobs,
their summed wall and CPU seconds, the longest job and the largest peak RSS, sorted by CPU seconds; the last
line gives the totals and the CPU-bound floor of the run's wall time on ``--cores`` cores (total CPU / cores).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def rule_table(results: Path) -> pd.DataFrame:
    rows = []
    for path in sorted((results / "benchmarks").glob("*/*.tsv")):
        job = pd.read_csv(path, sep="\t").iloc[-1]
        rows.append({"rule": path.parent.name, "wall_s": job["s"], "cpu_s": job["cpu_time"],
                     "max_rss_mb": job["max_rss"]})
    if not rows:
        raise SystemExit(f"no benchmark files under {results / 'benchmarks'}: run the workflow first")
    jobs = pd.DataFrame(rows)
    table = jobs.groupby("rule").agg(jobs=("wall_s", "size"), wall_s=("wall_s", "sum"), cpu_s=("cpu_s", "sum"),
                                     longest_s=("wall_s", "max"), max_rss_mb=("max_rss_mb", "max"))
    return table.sort_values("cpu_s", ascending=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default="results", type=Path)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    table = rule_table(args.results)
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(table.round(1).to_string())
    cpu = table["cpu_s"].sum()
    print(f"jobs={int(table['jobs'].sum())} wall_sum_s={table['wall_s'].sum():.0f} cpu_sum_s={cpu:.0f} "
          f"cpu_floor_min={cpu / args.cores / 60:.1f} longest_s={table['longest_s'].max():.0f}")


if __name__ == "__main__":
    main()
