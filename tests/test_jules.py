import pytest

from thermoscape.jules import langevin_batches

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
