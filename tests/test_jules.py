import pytest

from thermoscape.core.grids import langevin_batches

SWEEPS = [
    {"eta": 0.01, "temperatures": [1e-6, 2e-6, 5e-6], "duration": 100.0},
    {"eta": 0.001, "temperatures": [1e-5], "duration": 10.0, "burn_in": 2.0},
]


def test_batches_split_each_sweep_and_name_their_range():
    single = langevin_batches(SWEEPS, 5.0, 1)
    assert [b.name for b in single] == ["eta0.01_T1e-06", "eta0.01_T2e-06", "eta0.01_T5e-06", "eta0.001_T1e-05"]
    assert [b.burn_in for b in single] == [5.0, 5.0, 5.0, 2.0]
    grouped = langevin_batches(SWEEPS, 5.0, 2)
    assert [(b.name, b.temperatures) for b in grouped] == [
        ("eta0.01_T1e-06_to_2e-06", (1e-6, 2e-6)),
        ("eta0.01_T5e-06", (5e-6,)),
        ("eta0.001_T1e-05", (1e-5,)),
    ]


@pytest.mark.parametrize(
    "sweeps, message",
    [
        ([{"eta": 0.01, "temperatures": [1e-6], "duration": 4.0}], r"sweeps\[0\]: burn-in 5.0"),
        ([{"eta": 0.01, "temperatures": [1e-6], "duration": 10.0},
          {"eta": 0.01, "temperatures": [1e-6], "duration": 20.0}], r"sweeps\[1\].*appears twice"),
    ],
)
def test_inconsistent_sweeps_fail_naming_the_sweep(sweeps, message):
    with pytest.raises(ValueError, match=message):
        langevin_batches(sweeps, 5.0, 1)


def test_eta_times_T_sweep_gives_each_temperature_its_own_step_and_job():
    sweeps = [{"eta_times_T": 1e-7, "temperatures": [2e-7, 2e-6, 1e-5], "duration": 100.0}]
    batches = langevin_batches(sweeps, 5.0, 4)
    assert [(b.eta, b.temperatures) for b in batches] == [(0.5, (2e-7,)), (0.05, (2e-6,)), (0.01, (1e-5,))]
    assert [b.name for b in batches] == ["eta0.5_T2e-07", "eta0.05_T2e-06", "eta0.01_T1e-05"]
    assert {b.time_step for b in batches} == {"eta T = 1e-07"}
    assert {b.realizations for b in batches} == {1}
    assert {b.realizations for b in langevin_batches([sweeps[0] | {"realizations": 3}], 5.0, 4)} == {3}
    with pytest.raises(ValueError, match=r"sweeps\[0\]: give exactly one of eta and eta_times_T"):
        langevin_batches([sweeps[0] | {"eta": 0.01}], 5.0, 1)


def test_runs_outside_the_grid_carry_their_start_and_prefix():
    sweep = {"eta": 0.01, "temperatures": [1e-4, 3e-4], "duration": 8.0}
    batches = langevin_batches([sweep], 4.0, 1, start="init", prefix="init_", key="jules.init_langevin")
    assert [(b.name, b.start) for b in batches] == [("init_eta0.01_T0.0001", "init"), ("init_eta0.01_T0.0003", "init")]
    with pytest.raises(ValueError, match=r"jules.init_langevin\[0\]: burn-in"):
        langevin_batches([sweep | {"burn_in": 8.0}], 4.0, 1, key="jules.init_langevin")
