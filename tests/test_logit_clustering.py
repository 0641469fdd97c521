"""Tests of the logit-gradient clustering measures (Fort & Ganguli Eqs. 11-13) in thermoscape.measure.similarity:
the streaming sums against brute-force pairwise cosines, and the random model's q_SL = SNR / (SNR + 1)."""

from __future__ import annotations

import math

import pytest
import torch

from thermoscape.studies.fort import random_model as rm
from thermoscape.measure.similarity import ClusteringSums, logit_clustering

F64 = torch.float64


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(a @ b / (a.norm() * b.norm()))


def brute_force(j: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Eqs. 11-13 literally, skipping pairs with a zero vector (undefined cosine) and classes without a pair."""
    n, c, _ = j.shape
    nonzero = j.norm(dim=2) > 0

    def mean_cos(k: int, ell: int, members: list[int]) -> float | None:
        values = [cosine(j[mu, k], j[nu, ell]) for mu in members for nu in members
                  if mu != nu and nonzero[mu, k] and nonzero[nu, ell]]
        return sum(values) / len(values) if values else None

    everyone = list(range(n))
    sl = [mean_cos(k, k, everyone) for k in range(c)]
    slsc = [mean_cos(k, k, [mu for mu in everyone if labels[mu] == k]) for k in range(c)]
    dl = [mean_cos(k, ell, everyone) for k in range(c) for ell in range(c) if k != ell]

    def mean(values):
        values = [v for v in values if v is not None]
        return sum(values) / len(values) if values else math.nan

    return {"q_slsc": mean(slsc), "q_sl": mean(sl), "q_dl": mean(dl)}


def clustered(n: int, c: int, d: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random Jacobians with a shared per-logit direction (so the q's are far from 0) and random labels."""
    g = gen(seed)
    j = torch.randn(c, d, generator=g, dtype=F64) + 0.8 * torch.randn(n, c, d, generator=g, dtype=F64)
    return j, torch.randint(0, c, (n,), generator=g)


def test_one_shot_matches_brute_force():
    j, labels = clustered(14, 3, 9, 0)
    expected = brute_force(j, labels)
    result = logit_clustering(j, labels)
    assert result == pytest.approx(expected, abs=1e-12)
    assert result["q_slsc"] > 0.2 and result["q_sl"] > 0.2  # the test data is clustered, not trivially 0


def test_batches_added_separately_equal_one_shot():
    j, labels = clustered(20, 4, 7, 1)
    sums = ClusteringSums()
    for start, stop in [(0, 6), (6, 7), (7, 15), (15, 20)]:
        sums.add(j[start:stop], labels[start:stop])
    assert sums.n_examples == 20 and (sums.n_classes, sums.dim) == (4, 7)
    assert sums.values() == pytest.approx(logit_clustering(j, labels), abs=1e-12)
    assert sums.values() == pytest.approx(brute_force(j, labels), abs=1e-12)


def test_jacobian_scale_and_dtype_do_not_matter():
    j, labels = clustered(10, 3, 5, 2)
    scale = torch.rand(10, 3, 1, generator=gen(3), dtype=F64) + 0.1
    assert logit_clustering(j * scale, labels) == pytest.approx(logit_clustering(j, labels), abs=1e-12)
    assert logit_clustering(j.float(), labels) == pytest.approx(logit_clustering(j, labels), abs=1e-5)


def test_zero_rows_are_skipped_and_small_classes_excluded():
    j, labels = clustered(12, 3, 6, 4)
    j[2, 1] = 0.0
    j[5, 0] = 0.0
    labels[:] = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2])  # class 2 has one example: no pair
    sums = ClusteringSums().add(j, labels)
    assert sums.zero_rows == 2
    assert sums.values() == pytest.approx(brute_force(j, labels), abs=1e-12)


def test_identical_and_orthogonal_gradients():
    # every example has the same logit gradients, and logits are mutually orthogonal: q_SL = q_SLSC = 1, q_DL = 0
    j = torch.eye(3, 5, dtype=F64).expand(6, 3, 5)
    values = logit_clustering(j, torch.tensor([0, 1, 2, 0, 1, 2]))
    assert values == pytest.approx({"q_slsc": 1.0, "q_sl": 1.0, "q_dl": 0.0}, abs=1e-12)


def test_undefined_values_and_errors():
    assert all(math.isnan(v) for v in ClusteringSums().values().values())
    one = ClusteringSums().add(torch.ones(1, 2, 3), torch.tensor([0]))
    assert all(math.isnan(v) for v in one.values().values())
    with pytest.raises(ValueError):
        logit_clustering(torch.ones(2, 2, 3), torch.tensor([0, 2]))
    with pytest.raises(ValueError):
        ClusteringSums().add(torch.ones(2, 2, 3), torch.tensor([0, 1])).add(torch.ones(2, 3, 3), torch.tensor([0, 1]))


def test_random_model_clustering_is_snr_over_snr_plus_one():
    """Sec. 3.2: q_SL = SNR / (SNR + 1), SNR = sigma_c^2 / sigma_E^2 = 1 / 0.49 (q_SL = 0.6711).

    Tolerances from the sampling spread at N = 100, C = 5, D = 300: the main fluctuation of q_SL is
    ``||c_k||^2`` (relative sd sqrt(2/D)), giving sd(q_SL) ~ q (1 - q) sqrt(2/D) / sqrt(C) = 0.008; q_DL
    averages cos(c_k, c_l) ~ N(0, 1/D) over C (C-1)/2 pairs: sd ~ q / sqrt(D C (C-1)/2) = 0.012
    (100 seeds measured: 0.0079 and 0.0120). The bounds are 4 sd.
    """
    dim = 300
    model = rm.draw(100, 5, dim, 15.0, 1 / math.sqrt(dim), 0.7 / math.sqrt(dim), 0.95, 0)
    values = logit_clustering(rm.logit_gradients(model), model.labels)
    snr = 1 / 0.49
    assert values["q_sl"] == pytest.approx(snr / (snr + 1), abs=0.032)
    assert abs(values["q_dl"]) < 0.05
    # one c_k is shared by all examples, so same-class pairs cluster like all pairs (brief 2.4 item 5)
    assert values["q_slsc"] == pytest.approx(values["q_sl"], abs=0.01)
