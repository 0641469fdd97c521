"""The Snakemake workflow end to end at smoke scale: targets, caching, rerun triggers, bad input."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, SMOKE, SMOKE_RESULTS, smoke_results
from test_scoreboard import assert_summaries_on_first_screen, find_chromium

from thermoscape.core.grids import TAXONOMY_APPENDIX

pytestmark = pytest.mark.workflow


def snakemake(workdir: Path, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--cores", "2", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            env=None if env is None else os.environ | env)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result


def assert_figures_written(results: Path, study: str, names) -> None:
    for name in names:
        for suffix in ("pdf", "png"):
            assert (results / "figures" / study / f"{name}.{suffix}").stat().st_size > 10_000, name


def planned_jobs(workdir: Path, *args: str, env: dict | None = None) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run would execute (targets before the options)."""
    out = snakemake(workdir, "-n", *args, env=env)
    text = out.stdout + out.stderr
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", text):
        match = re.match(r"(?:local)?rule (\w+):", block.strip())
        if match:
            wildcards = re.search(r"wildcards: (.*)", block)
            jobs.append((match.group(1), wildcards.group(1) if wildcards else ""))
    return jobs


def write_override(path: Path, override: dict) -> Path:
    path.write_text(yaml.safe_dump(override))
    return path


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("smoke")
    snakemake(workdir, "fig1", "--configfile", str(SMOKE))
    return workdir


def test_fig1_target_builds_figure_and_its_data_only(smoke_run):
    results = smoke_results(smoke_run)
    for suffix in ("pdf", "png"):
        assert (results / "figures" / "jules" / f"fig1.{suffix}").stat().st_size > 10_000
    assert sorted(p.name for p in (results / "figures").rglob("*") if p.is_file()) == ["fig1.pdf", "fig1.png"]
    assert not (results / "jules" / "scratch").exists() or not any((results / "jules" / "scratch").rglob("*.pt"))

    summary = pd.read_parquet(results / "jules" / "tables" / "fluctuations.parquet")
    smoke = yaml.safe_load(SMOKE.read_text())["jules"]["langevin"]["sweeps"]
    expected = {(s.get("eta", s.get("eta_times_T", 0) / t), t) for s in smoke for t in s["temperatures"]}
    assert set(zip(summary["eta"].round(12), summary["temperature"])) == {(round(e, 12), t) for e, t in expected}
    runs = {(round(s.get("eta", s.get("eta_times_T", 0) / t), 12), t): 2 * s.get("realizations", 1) for s in smoke
            for t in s["temperatures"]}  # 2 replicas x noise realizations
    assert list(summary["n_runs"]) == [runs[round(e, 12), t] for e, t in zip(summary["eta"], summary["temperature"])]
    assert (summary["n_diverged"] == 0).all()
    whole = summary[summary["slice"] == "all"]
    assert np.all(whole["mu_mean"] > 0) and np.all(whole["alpha_mean"] > 0)

    trajectory = pd.read_parquet(results / "jules" / "langevin" / "eta0.01_T0.0001" / "trajectory.parquet")
    np.testing.assert_allclose(trajectory["t"], trajectory["step"] * 0.01)
    assert set(trajectory["chain"]) == {0, 1}
    params = pd.read_parquet(results / "jules" / "langevin" / "eta0.01_T0.0001" / "params.parquet")
    assert len(params) == 2 * 2  # param_snapshots per replica


def test_time_step_policies_are_compared_on_common_windows(smoke_run):
    snakemake(smoke_run, f"{SMOKE_RESULTS}/jules/tables/time_step_check.parquet", "--configfile", str(SMOKE))
    check = pd.read_parquet(smoke_results(smoke_run) / "jules" / "tables" / "time_step_check.parquet")
    pairs = set(zip(check["temperature"], check["eta_ref"], check["eta"]))
    assert pairs == {(1e-4, 0.01, 0.03), (3e-4, 0.001, 0.01)}
    assert set(check["time_step"]) == {"eta T = 3e-06", "eta = 0.01"}
    assert {"mu", "alpha", "tau_half"} <= set(check["quantity"]) and check["agree"].dtype == bool
    status = pd.read_parquet(smoke_results(smoke_run) / "jules" / "langevin" / "eta0.001_T0.0003"
                             / "status.parquet")
    assert list(status["replica"]) == [0, 1, 2, 3] and list(status["minimum"]) == [0, 1, 0, 1]  # 2 realizations
    assert status["seed"].nunique() == 4


def test_rerun_with_nothing_changed_does_no_work(smoke_run):
    assert planned_jobs(smoke_run, "fig1", "--configfile", str(SMOKE)) == []


def test_adding_one_temperature_runs_only_its_jobs_and_what_aggregates_them(smoke_run, tmp_path):
    override = yaml.safe_load(SMOKE.read_text())
    override["jules"]["langevin"]["sweeps"][0]["temperatures"].append(2.0e-4)
    added = write_override(tmp_path / "added.yaml", override)
    assert sorted(planned_jobs(smoke_run, "fig1", "--configfile", str(SMOKE), str(added))) == sorted([
        ("jules_langevin", "batch=eta0.01_T0.0002"),
        ("jules_fluctuations", "eta=0.01, T=0.0002"),
        ("jules_aggregate", ""),
        ("jules_fig1", ""),
        ("fig1", ""),
    ])


def test_changing_an_analysis_key_reruns_analysis_not_sampling(smoke_run, tmp_path):
    override = yaml.safe_load(SMOKE.read_text())
    override["jules"]["analysis"]["slice_length"] = 5.0
    changed = write_override(tmp_path / "analysis.yaml", override)
    rules = {rule for rule, _ in planned_jobs(smoke_run, "fig1", "--configfile", str(SMOKE), str(changed))}
    assert rules == {"jules_fluctuations", "jules_aggregate", "jules_fig1", "fig1"}


FIGURES = ("fig1", "fig2", "fig3", "fig4", "figS1", "figS2")
FLUCTUATION_QUANTITIES = {
    "slope of log mu_L vs log T", "slope of log sigma_L vs log T", "sigma_L / (sqrt(C_h) T)", "beta T",
    "N_c = 2 alpha", "slope of log N_c vs log T", "Spearman(phi, alpha)", "slope of log tau_1/2 vs log T",
}


def test_default_target_builds_every_figure_and_the_claims_table(smoke_run):
    snakemake(smoke_run, "--configfile", str(SMOKE))
    results = smoke_results(smoke_run)
    assert_figures_written(results, "jules", FIGURES)
    claims = pd.read_csv(results / "claims.csv")
    assert set(claims["verdict"]) <= {"holds", "fails", "undetermined"}
    assert set(claims["study"]) == {"jules", "taxonomy", "fengtu", "fort", "bradley"}
    assert (claims["scale"] == "smoke").all() and claims["config_hash"].nunique() == 1
    assert claims["commit"].notna().all() and claims["headline"].any()
    claims = claims[claims["study"] == "jules"]
    assert set(claims["claim"]) == {"a", "b", "c", "d", "e", "eta T"}
    slices = set(pd.read_parquet(results / "jules" / "tables" / "fluctuations.parquet")["slice"])
    for name in slices:  # every claim of (a)-(c) in every analysis slice
        assert set(claims.loc[claims["slice"] == name, "quantity"]) >= FLUCTUATION_QUANTITIES, name
    other = claims[~claims["quantity"].isin(FLUCTUATION_QUANTITIES)]
    assert other.groupby("claim").size().to_dict() == {"c": 3, "d": 2, "e": 2, "eta T": 7}
    hessian = pd.read_parquet(results / "jules" / "hessian" / "eta0.01_T0.0001.parquet")
    assert len(hessian) == 2 * 2 * 883  # param_snapshots x replicas points, 883 eigenvalues each
    assert "<table" in (results / "claims.html").read_text()
    if chromium := find_chromium():  # required in CI (test_scoreboard.py)
        assert_summaries_on_first_screen(chromium, results / "claims.html", smoke_run)
    assert planned_jobs(smoke_run, "--configfile", str(SMOKE)) == []
    built = snakemake(smoke_run, "--configfile", str(SMOKE), "--report", "report.html")
    assert "Missing metadata" not in built.stdout + built.stderr
    report = (smoke_run / "report.html").read_text()
    for name in (*FIGURES, "claims"):
        assert f"{name}.png" in report or f"{name}.html" in report, name
    assert "System Message" not in report  # docutils' errors in a caption
    assert "five studies of neural-network loss landscapes" in report  # the landing page


TAXONOMY_FIGURES = ("noise", "curves", "temperature_axes", "data_amount", "lr_decay", "label_noise",
                    "ablation_ablations", *(f"{e}_diagram" for e in ("phase", "noise", "lr", "weight_decay",
                                                                      "data_amount", "ablation", "lr_decay",
                                                                      "label_noise")))
TAXONOMY_METRICS = ("test_accuracy", "train_loss", "train_accuracy", "hessian_top", "hessian_trace", "mc", "cka",
                    "cka_logits", "l2")


def taxonomy_cells(workdir: Path) -> set[str]:
    tables = (smoke_results(workdir) / "taxonomy" / "tables").glob("*/cells.parquet")
    return {cell for path in tables for cell in pd.read_parquet(path)["cell"]}


@pytest.fixture(scope="module")
def default_run(smoke_run) -> Path:
    """The smoke workdir with the default target built (a no-op when an earlier test built it)."""
    snakemake(smoke_run, "--configfile", str(SMOKE))
    return smoke_run


def test_taxonomy_builds_its_figures_tables_and_claims_sharing_cells(default_run):
    results = smoke_results(default_run)
    assert_figures_written(results, "taxonomy", TAXONOMY_FIGURES)
    smoke = yaml.safe_load(SMOKE.read_text())["taxonomy"]
    # the App. D experiments (taxonomy_fig14 ... taxonomy_fig23) are built by their own targets, not by `all`
    appendix = set(TAXONOMY_APPENDIX.values())
    for name, experiment in smoke["experiments"].items():
        if name in appendix:
            assert not (results / "taxonomy" / "tables" / name).exists(), name
            continue
        cells = pd.read_parquet(results / "taxonomy" / "tables" / name / "cells.parquet")
        size = np.prod([len(experiment[r]["values"]) for r in ("load", "temperature", "panel") if r in experiment])
        assert len(cells) == size, name
        assert np.isfinite(cells[list(TAXONOMY_METRICS)].to_numpy()).all(), name
        assert set(cells["phase"]) <= {"I", "II", "III", "IV-A", "IV-B"}
        assert (cells["n_replicas"] == smoke["replicas"]).all()
        assert cells["cka"].between(0, 1).all() and (cells["hessian_trace"] > 0).all()
        curves = pd.read_parquet(results / "taxonomy" / "tables" / name / "curves.parquet")
        assert len(curves) == 5 * size
    # 4 + 1 + 2 + 2 + 2 + 2 + 2 + 3 cells in the eight experiments, 11 distinct (ablation's cells are phase's,
    # label_noise's noise 0 and 0.1 are phase's and noise's; lr_decay's 2 are new): trained once each
    assert len(list((results / "taxonomy" / "cells").iterdir())) == len(taxonomy_cells(default_run)) == 11
    noisy = pd.read_parquet(results / "taxonomy" / "data" / "labels_noise0.1.parquet")
    assert (noisy["label"] != noisy["clean_label"]).sum() == round(0.1 * len(noisy))
    claims = pd.read_parquet(results / "taxonomy" / "tables" / "claims.parquet")
    assert set(claims["claim"]) == {"best accuracy", "mc small width", "mc hot wide", "loss drop", "cka ordering",
                                    "double descent", "phase IV-A", "phase IV crossover", "noise worsens connectivity",
                                    "trace insensitive to noise", "lr decay best accuracy", "lr decay gain peak",
                                    "cka alpha ablation", "curves ablation", "cka pixel noise ablation"}
    assert set(claims["verdict"]) <= {"holds", "fails", "undetermined"}


def test_taxonomy_measurement_setting_reruns_only_the_cells_and_what_reads_them(default_run, tmp_path):
    """A cell job trains and measures; its training then resumes from the finished checkpoint (tested in
    test_taxonomy.py), so only the measurements cost time."""
    override = yaml.safe_load(SMOKE.read_text())
    override["taxonomy"]["curve"]["epochs"] = 4
    changed = write_override(tmp_path / "curve.yaml", override)
    jobs = planned_jobs(default_run, "--configfile", str(SMOKE), str(changed))
    assert {rule for rule, _ in jobs} == {"taxonomy_cell", "taxonomy_aggregate", "taxonomy_diagram",
                                          "taxonomy_figure", "taxonomy_claims", "claims", "all", "taxonomy_ablation",
                                          "taxonomy_ablation_table", "taxonomy_ablations_figure"}
    assert sum(rule == "taxonomy_cell" for rule, _ in jobs) == 11


def test_taxonomy_added_width_trains_only_its_cells(default_run, tmp_path):
    override = yaml.safe_load(SMOKE.read_text())
    override["taxonomy"]["experiments"]["phase"]["load"]["values"] = [4, 32, 64]
    changed = write_override(tmp_path / "width.yaml", override)
    jobs = planned_jobs(default_run, "--configfile", str(SMOKE), str(changed))
    trained = sorted(cell for rule, cell in jobs if rule == "taxonomy_cell")
    assert trained == ["cell=w64_b128_lr0.05_wd0.0005_s1.0_n0.0", "cell=w64_b32_lr0.05_wd0.0005_s1.0_n0.0"]
    assert sorted(w for rule, w in jobs if rule == "taxonomy_aggregate") == ["experiment=phase"]


@pytest.mark.parametrize(
    "override, named",
    [
        ({"experiments": {"lr": {"temperature": {"axis": "learning_rate"}}}}, "taxonomy.experiments.lr.temperature.axis"),
        ({"data": {"name": "cifar10"}}, "taxonomy.data.path"),
        ({"experiments": {"phase": {"temperature": {"values": [2000]}}}}, "taxonomy.experiments.phase: cell w4_b2000"),
    ],
    ids=["axis", "cifar-path", "batch"],
)
def test_bad_taxonomy_config_fails_naming_the_key(tmp_path, override, named):
    bad = write_override(tmp_path / "bad.yaml", {"taxonomy": override})
    result = snakemake(tmp_path, "taxonomy", "-n", "--configfile", str(SMOKE), str(bad), check=False)
    assert result.returncode != 0 and named in result.stderr + result.stdout


FENGTU_FIGURES = ("fig1", "fig2", "fig3", "fig4", "fig5", "figS1", "figS2", "figS3", "control")


def test_fengtu_builds_its_figures_tables_and_claims(default_run):
    results = smoke_results(default_run)
    assert_figures_written(results, "fengtu", FENGTU_FIGURES)
    smoke = yaml.safe_load(SMOKE.read_text())["fengtu"]
    e1 = results / "fengtu" / "runs" / "mlp2_lr0.1_B50_s0"
    assert len(pd.read_parquet(e1 / "history.parquet")) == smoke["training"]["epochs"] + 1
    pca = pd.read_parquet(e1 / "W2" / "pca.parquet")
    assert len(pca) == smoke["training"]["window"] * (1000 // 50) - 1  # one snapshot per SGD step, 1000 images
    flatness = pd.read_parquet(e1 / "W2" / "flatness.parquet")
    assert {1, 2, 10, 20}.issubset(flatness["rank"]) and (flatness["width"] > 0).all()
    deep = results / "fengtu" / "runs" / "mlp4_lr0.1_B50_s0"
    assert {p.name for p in deep.iterdir() if p.is_dir()} == {"W2", "W3"}  # both hidden-to-hidden matrices
    final = pd.concat([pd.read_parquet(results / "fengtu" / "forgetting" / f"{m}_s0_final.parquet")
                       for m in ("ldc", "ewc")])
    assert final[["eps1", "eps2"]].stack().between(0, 1).all() and set(final["method"]) == {"ldc", "ewc"}
    claims = pd.read_parquet(results / "fengtu" / "tables" / "claims.parquet")
    assert set(claims["verdict"]) <= {"holds", "fails", "undetermined"} and set(claims["study"]) == {"fengtu"}
    assert {"spectrum power law (Fig. 1A)", "inverse variance-flatness relation (Fig. 2, Eq. 8)",
            "MLF curvature (Fig. 3B)", "active temperature anisotropic (Fig. 5B)", "LDC beats EWC (Fig. 4E)",
            "Langevin noise flips the relation (control C1, Eq. 16)",
            "inverse variance-flatness relation (E6, Adam, Eq. 8)"} <= set(claims["claim"])
    adam = pd.read_parquet(results / "fengtu" / "runs" / "adam_lr0.001_B50_s0" / "history.parquet")
    assert adam["finite"].all() and adam["loss"].iloc[-1] < adam["loss"].iloc[0]  # E6: trained with Adam


def test_fengtu_flatness_setting_rescans_without_retraining(default_run, tmp_path):
    changed = write_override(tmp_path / "flat.yaml", {"fengtu": {"flatness": {"rel_tol": 2.0e-3}}})
    rules = {rule for rule, _ in planned_jobs(default_run, "--configfile", str(SMOKE), str(changed))}
    assert "fengtu_flatness" in rules and "fengtu_claims" in rules
    assert not rules & {"fengtu_train", "fengtu_pca", "fengtu_langevin", "fengtu_dataset"}


@pytest.mark.parametrize(
    "override, named",
    [({"training": {"window": 500}}, "fengtu.training.window")],
    ids=["window"],
)
def test_bad_fengtu_config_fails_naming_the_key(tmp_path, override, named):
    bad = write_override(tmp_path / "bad.yaml", {"fengtu": override})
    result = snakemake(tmp_path, "fengtu", "-n", "--configfile", str(SMOKE), str(bad), check=False)
    assert result.returncode != 0 and named in result.stderr + result.stdout


FORT_FIGURES = ("fig1", "fig3", "fig4", "fig5", "fig6", "fig7", "fig8", "properties", "goldilocks")


def test_fort_builds_its_figures_tables_and_claims(default_run):
    results = smoke_results(default_run)
    assert_figures_written(results, "fort", FORT_FIGURES)
    smoke = yaml.safe_load(SMOKE.read_text())["fort"]
    networks = smoke["networks"]
    mlp = results / "fort" / "runs" / "digits_mlp_relu_unit_s0"
    history = pd.read_parquet(mlp / "history.parquet")
    assert list(history["epoch"]) == list(range(networks["training"]["epochs"] + 1))
    assert history["lambda_max"].notna().all() and (history["preprocess"] == "unit").all()  # recorded with results
    clustering = pd.read_parquet(mlp / "clustering.parquet")
    assert list(clustering["stage"]) == list(networks["stages"]) and clustering["q_sl"].between(-1, 1).all()
    summary = pd.read_parquet(mlp / "hessian_summary.parquet")
    assert list(summary["epoch"]) == networks["hessian"]["epochs"] and summary["power_top_c"].between(0, 1).all()
    cnn = results / "fort" / "runs" / "digits_cnn_tanh_zscore_c012_s0"
    simplex = pd.read_parquet(cnn / "simplex.parquet")
    assert (simplex[["p1", "p2", "p3"]].sum(axis=1) - 1).abs().max() < 1e-9 and set(simplex["label"]) == {0, 1, 2}
    radius = pd.read_parquet(cnn / "radius.parquet")  # Fig. 4 BR: logits grow as the init is scaled up
    assert list(radius["scale"]) == networks["goldilocks"]["scales"] and radius["logit_variance"].is_monotonic_increasing
    model = pd.read_parquet(results / "fort" / "random_model" / "summary_s0.parquet")
    assert int(model["n_outliers"].iloc[0]) == smoke["random_model"]["n_classes"] - 1  # C - 1 (Fig. 5)
    claims = pd.read_parquet(results / "fort" / "tables" / "claims.parquet")
    assert set(claims["study"]) == {"fort"} and set(claims["verdict"]) <= {"holds", "fails", "undetermined"}
    assert {"logit gradients cluster (Sec. 4, Eq. 12)", "bulk + C - 1 outliers (Fig. 5)",
            "top eigenvalue grows, peaks and declines (Fig. 7)"} <= set(claims["claim"])


def test_fort_hessian_setting_reruns_the_hessian_not_training(default_run, tmp_path):
    changed = write_override(tmp_path / "hessian.yaml", {"fort": {"networks": {"hessian": {"probes": 24}}}})
    rules = {rule for rule, _ in planned_jobs(default_run, "--configfile", str(SMOKE), str(changed))}
    assert "fort_hessian" in rules and "fort_claims" in rules
    assert not rules & {"fort_train", "fort_radius", "fort_random_model", "fort_random_model_sweep"}


@pytest.mark.parametrize(
    "override, named",
    [({"networks": {"stages": {"late": 99}}}, "fort.networks.stages"),
     ({"networks": {"runs": [{"dataset": "digits", "arch": "mlp", "activation": "sigmoid", "preprocess": "unit"}]}},
      "fort.networks.runs"),
     ({"networks": {"runs": [{"dataset": "cifar10", "arch": "cnn", "activation": "relu", "preprocess": "unit"}]}},
      "fort.networks.paths.cifar10"),
     ({"networks": {"n_train": 5000}}, "fort.networks.n_train: 5000 images, but digits")],
    ids=["stage", "activation", "cifar-path", "n_train"],
)
def test_bad_fort_config_fails_naming_the_key(tmp_path, override, named):
    bad = write_override(tmp_path / "bad.yaml", {"fort": override})
    result = snakemake(tmp_path, "fort", "-n", "--configfile", str(SMOKE), str(bad), check=False)
    assert result.returncode != 0 and named in result.stderr + result.stdout


BRADLEY_FIGURES = ("fig1", "fig2", "fig4", "fig5", "fig6", "langevin")


def test_bradley_builds_its_figures_tables_and_claims(default_run):
    results = smoke_results(default_run)
    assert_figures_written(results, "bradley", BRADLEY_FIGURES)
    smoke = yaml.safe_load(SMOKE.read_text())["bradley"]
    tables = results / "bradley" / "tables"
    basins = pd.read_parquet(tables / "basins.parquet")
    total = basins.groupby(["case", "T"])["probability"].sum()
    assert set(basins["case"]) == {"fig4_left", "fig4_right", "fig6_left", "fig6_right"} and np.allclose(total, 1)
    summary = pd.read_parquet(tables / "shift_curvature.parquet")
    assert sorted(summary["T"]) == sorted(smoke["shift_curvature"]["temperatures"]) and summary["finite"].all()
    assert (summary["shift_norm"] > 0).all() and np.allclose(summary["lr"], summary["T"] * 100)  # T = lr / B
    lines = pd.read_parquet(tables / "lines.parquet")
    assert len(lines) == len(summary) * smoke["shift_curvature"]["line"]["points"]
    sweep = pd.read_parquet(tables / "sweep.parquet")
    stage2 = smoke["sweep"]["stage2"]
    assert len(sweep) == len(stage2["batch_sizes"]) * len(stage2["temperatures"])
    assert len(pd.read_parquet(tables / "shuffle.parquet")) == smoke["sweep"]["shuffles"]
    claims = pd.read_parquet(results / "bradley" / "tables" / "claims.parquet")
    assert set(claims["study"]) == {"bradley"} and set(claims["verdict"]) <= {"holds", "fails", "undetermined"}
    assert {"Laplace weights (Eq. 6) match the basin integrals", "E[U_test] has an interior minimum with T",
            "shift-curvature s C_test s decreases with T",
            "test loss collapses across batch sizes at equal T = lr/B"} <= set(claims["claim"])


def test_bradley_line_setting_reruns_the_line_not_training(default_run, tmp_path):
    changed = write_override(tmp_path / "fit.yaml", {"bradley": {"shift_curvature": {"fit": {"offset": True}}}})
    rules = {rule for rule, _ in planned_jobs(default_run, "--configfile", str(SMOKE), str(changed))}
    assert "bradley_line" in rules and "bradley_claims" in rules
    assert not rules & {"bradley_sgd", "bradley_minimum", "bradley_stage1", "bradley_stage2", "bradley_basins"}


def test_bad_bradley_config_fails_naming_every_key(tmp_path):
    bad = write_override(tmp_path / "bad.yaml", {"bradley": {
        "basins": {"langevin_check": {"diffusion": {"base": 0.5, "amplitude": 0.6}}, "cases": {"odd": {"minima": [0.0, 1.0], "weights": [0.1],
                                                                          "sigmas": [0.1], "c": 0.0, "shift": 0.1}}},
        "networks": {"data": {"n_train": 5000}},
        "shift_curvature": {"network": {"arch": "resnet10"}}}})
    result = snakemake(tmp_path, "bradley", "-n", "--configfile", str(SMOKE), str(bad), check=False)
    for named in ("bradley.basins.langevin_check.diffusion.amplitude", "bradley.basins.cases.odd",
                  "bradley.networks.data.n_train: 5000 images, but mnist5k", "bradley.shift_curvature.network.arch"):
        assert result.returncode != 0 and named in result.stderr + result.stdout, named


def test_figure_only_setting_rerenders_only_that_figure(smoke_run, tmp_path):
    override = yaml.safe_load(SMOKE.read_text())
    override["jules"]["fig2"] = {"slice": "t4-8"}
    changed = write_override(tmp_path / "fig2.yaml", override)
    # and the scoreboard, which links the figure and records the new config's hash
    assert sorted(planned_jobs(smoke_run, "--configfile", str(SMOKE), str(changed))) == [
        ("all", ""), ("claims", ""), ("jules_fig2", "")]


def test_editing_a_measurement_library_reruns_only_the_rules_using_it(smoke_run, tmp_path):
    """An edited copy of the library first on PYTHONPATH: only the Hessian rule and what reads it re-run."""
    shutil.copytree(ROOT / "src" / "thermoscape", tmp_path / "thermoscape")
    with open(tmp_path / "thermoscape" / "measure" / "curvature.py", "a") as source:
        source.write("\n# an edit\n")
    jobs = planned_jobs(smoke_run, "--configfile", str(SMOKE), env={"PYTHONPATH": str(tmp_path)})
    # the Hessian of Jules et al. Fig. 3, the taxonomy's Hessian metrics, Fort & Ganguli's lambda_max, Lanczos
    # and Hutchinson, and what reads them; a taxonomy cell job trains (resuming its finished checkpoint) and
    # measures, so its re-written models are re-measured by the ablations too
    assert {rule for rule, _ in jobs} == {"jules_hessian", "jules_fig3", "jules_claims", "claims", "all",
                                          "taxonomy_cell", "taxonomy_aggregate", "taxonomy_diagram",
                                          "taxonomy_figure", "taxonomy_claims", "taxonomy_ablation",
                                          "taxonomy_ablation_table",
                                          "taxonomy_ablations_figure", "fort_train", "fort_hessian",
                                          "fort_radius", "fort_figure", "fort_claims", "bradley_line",
                                          "bradley_table", "bradley_figure", "bradley_claims"}
    assert sum(rule == "taxonomy_cell" for rule, _ in jobs) == len(taxonomy_cells(smoke_run))


def test_rerun_gives_bitwise_identical_tables(smoke_run):
    tables = [smoke_results(smoke_run) / "jules" / name for name in
              ("langevin/eta0.01_T0.0001/trajectory.parquet", "fluctuations/eta0.01_T0.0001.parquet")]
    before = [path.read_bytes() for path in tables]
    result = snakemake(smoke_run, f"{SMOKE_RESULTS}/jules/fluctuations/eta0.01_T0.0001.parquet",
                       "--configfile", str(SMOKE), "--forcerun", "jules_langevin")
    assert "rule jules_langevin" in result.stdout + result.stderr
    assert [path.read_bytes() for path in tables] == before


def test_killed_langevin_job_resumes_from_its_last_chunk_to_identical_outputs(smoke_run, tmp_path):
    override = yaml.safe_load(SMOKE.read_text())
    override["jules"]["langevin"]["sweeps"] = [{"eta": 0.01, "temperatures": [1e-4], "duration": 120}]  # 6 chunks
    config = write_override(tmp_path / "long.yaml", override)
    target = f"{SMOKE_RESULTS}/jules/langevin/eta0.01_T0.0001/trajectory.parquet"
    runs = {}
    for name in ("killed", "whole"):
        workdir = tmp_path / name
        for part in ("data", "models"):  # reuse the smoke minima (copy2 keeps their modification times)
            shutil.copytree(smoke_results(smoke_run) / "jules" / part,
                            smoke_results(workdir) / "jules" / part)
        runs[name] = workdir
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(runs["killed"]),
               "--cores", "1", target, "--configfile", str(SMOKE), str(config)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    scratch = smoke_results(runs["killed"]) / "jules" / "scratch" / "langevin" / "eta0.01_T0.0001"
    deadline = time.monotonic() + 300
    while len(list(scratch.glob("trajectory-*.parquet"))) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (runs["killed"] / target).exists(), "the job finished before it could be killed"
    snakemake(runs["killed"], "--unlock", "--configfile", str(SMOKE), str(config))
    snakemake(runs["killed"], target, "--rerun-incomplete", "--configfile", str(SMOKE), str(config))
    log = (smoke_results(runs["killed"]) / "logs" / "jules_langevin" / "eta0.01_T0.0001.log").read_text()
    assert "resumed from the checkpoint at step" in log
    snakemake(runs["whole"], target, "--configfile", str(SMOKE), str(config))
    for name in ("trajectory", "samples", "params", "status"):
        killed, whole = (pd.read_parquet(runs[k] / target.replace("trajectory", name)) for k in ("killed", "whole"))
        pd.testing.assert_frame_equal(killed.drop(columns="wall_seconds_last_session", errors="ignore"),
                                      whole.drop(columns="wall_seconds_last_session", errors="ignore"))
