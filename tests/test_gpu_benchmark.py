"""The GPU paper-scale benchmark's CPU-side logic (a smoke run); its GPU numbers come from a GPU."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_paper_scale.py"


def load():
    spec = importlib.util.spec_from_file_location("gpu_paper_scale", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_run_on_the_cpu_writes_its_numbers(tmp_path):
    out = tmp_path / "result.json"
    result = load().main(["--device", "cpu", "--small", "--out", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    for label in ("float64 eager", "mixed eager"):
        engine = result["engine"][label]
        assert engine["chains"] == 8 and engine["steps"] == 256 and engine["finite"] and engine["chain_steps_per_s"] > 0
    assert result["hessian"]["points"] == 3 and result["hessian"]["hessians_per_s"] > 0
    assert result["gradient_max_relative_difference_vs_cpu"] == 0.0  # the same device
    assert result["hessian"]["eigenvalue_max_relative_difference_vs_cpu"] < 1e-12


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_without_cuda_it_says_so_and_exits(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load().main(["--out", str(tmp_path / "none.json")])
    assert exit_info.value.code == 2
    assert "no CUDA device" in capsys.readouterr().out
    assert not (tmp_path / "none.json").exists()
