"""Machine translation (Yang et al., App. D.4, Figs. 18-19): the synthetic language, the corpus reader, the
Transformer (shapes, causal mask, the Hessian on it), the schedules, the claims and the smoke workflow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from thermoscape.core.grids import Cell
from thermoscape.data.translation import (
    BOS,
    EOS,
    IGNORE,
    PAD,
    Vocabulary,
    corpus_table,
    encode_pairs,
    lexicon,
    read_parallel_corpus,
    translate,
    split_pairs,
    synthetic_pairs,
)
from thermoscape.dynamics.train import SimulatedKill
from thermoscape.measure import curvature
from thermoscape.nets import build
from thermoscape.nets.networks import evaluate, flat_parameters, parameter_loss
from thermoscape.nets.transformer import greedy_decode
from thermoscape.studies.taxonomy import translation as mt
from thermoscape.studies.taxonomy.experiment import PhaseRules, hessian_top, hessian_trace


# --- the synthetic language -------------------------------------------------------------------------


def test_synthetic_pairs_are_deterministic_reversed_and_mapped_through_a_bijective_lexicon():
    pairs = synthetic_pairs(200, vocab=7, min_len=2, max_len=5, seed=3)
    assert pairs == synthetic_pairs(200, vocab=7, min_len=2, max_len=5, seed=3)
    assert pairs != synthetic_pairs(200, vocab=7, min_len=2, max_len=5, seed=4)
    words = lexicon(7, 3)
    assert sorted(words) == [f"s{i}" for i in range(7)] and sorted(words.values()) == [f"t{i}" for i in range(7)]
    for source, target in pairs:
        assert 2 <= len(source) <= 5 and len(target) == len(source)
        assert target == [words[w] for w in source[::-1]]
    assert {len(s) for s, _ in pairs} == {2, 3, 4, 5}  # every length occurs in 200 draws


def test_a_hand_checked_translation():
    words = lexicon(3, 0)
    source = ["s0", "s1", "s2", "s2"]
    assert translate(source, words) == [words["s2"], words["s2"], words["s1"], words["s0"]]


def test_split_and_encoding():
    pairs = synthetic_pairs(30, 5, 2, 4, 0)
    train, test = split_pairs(pairs, 20, 10, 0)
    assert len(train) == 20 and len(test) == 10 and not {tuple(map(tuple, p)) for p in train} & {
        tuple(map(tuple, p)) for p in test}
    with pytest.raises(ValueError, match="data: n_train 25 and n_test 10 need 35 of the 30"):
        split_pairs(pairs, 25, 10, 0, key="data")
    vocab_s, vocab_t = Vocabulary.of([["b", "a"]]), Vocabulary.of([["x"]])
    encoded = encode_pairs([(["a", "b", "zz"], ["x", "x"])], vocab_s, vocab_t, source_len=4, target_len=4)
    assert encoded.source.tolist() == [[4, 5, 3, PAD]]  # a, b, <unk>, padding
    assert encoded.decoder_input.tolist() == [[BOS, 4, 4, PAD]]
    assert encoded.target.tolist() == [[4, 4, EOS, IGNORE]]
    assert vocab_t.sentence([4, 4, EOS, 4]) == ["x", "x"]


# --- the reader's bad input ---------------------------------------------------------------------------


def test_the_reader_reads_a_tsv_corpus(tmp_path):
    path = tmp_path / "corpus.tsv"
    path.write_text("ein Haus\ta house\n\nzwei\ttwo  \n", encoding="utf-8")
    assert read_parallel_corpus(path) == [(["ein", "Haus"], ["a", "house"]), (["zwei"], ["two"])]


@pytest.mark.parametrize("text, message", [
    ("ein Haus a house\n", r"line 1: expected 'source<TAB>target' \(one tab\), found 0 tabs"),
    ("a\tb\n1\t2\t3\n", r"line 2: expected 'source<TAB>target' \(one tab\), found 2 tabs"),
    ("a\tb\n \tb\n", "line 2: the source sentence is empty"),
    ("a\t \n", "line 1: the target sentence is empty"),
    ("\n\n", "holds no sentence pair"),
])
def test_the_reader_names_the_key_and_the_line_of_bad_input(tmp_path, text, message):
    path = tmp_path / "corpus.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=f"taxonomy.translation.data.path: .*{message}"):
        read_parallel_corpus(path, "taxonomy.translation.data.path")


def test_the_reader_rejects_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="data.path: .*nowhere.tsv is not a file"):
        read_parallel_corpus(tmp_path / "nowhere.tsv", "data.path")
    with pytest.raises(ValueError, match=r"taxonomy.translation.data.path: a parallel corpus needs the path"):
        mt.load_corpus({"name": "parallel", "path": None, "n_train": 10, "n_test": 2, "seed": 0})


# --- the Transformer ----------------------------------------------------------------------------------


def tiny_data(n_train=24, n_test=8, width=8, batch_size=8, subset=1.0) -> tuple[Cell, mt.TranslationData]:
    table = corpus_table(*split_pairs(synthetic_pairs(n_train + n_test, 4, 2, 4, 1), n_train, n_test, 1))
    cell = Cell(width, batch_size, 3e-3, 0.0, subset)
    return cell, mt.translation_data(table, cell)


def tiny_model(data, width=8, heads=2, seed=0):
    arch = mt.translation_architecture({"layers": 1, "heads": heads, "ff_multiplier": 2}, width, data)
    return build(arch, seed).eval()


def test_forward_shapes_and_build_by_name():
    _, data = tiny_data()
    model = tiny_model(data)
    logits = model(data.x_train)
    target_len = data.x_train.shape[1] - data.source_len
    assert logits.shape == (len(data.x_train), data.n_classes, target_len)
    assert torch.equal(model(data.x_train.double()), logits)  # float token ids are read as ids
    with pytest.raises(ValueError, match="multiple of its 3 heads"):
        tiny_model(data, width=8, heads=3)


def test_the_output_at_position_t_does_not_depend_on_decoder_inputs_after_t():
    torch.manual_seed(0)
    _, data = tiny_data()
    model = tiny_model(data)
    x = data.x_train[:6].clone()
    S, T = data.source_len, x.shape[1] - data.source_len
    base = model(x)
    for t in range(T - 1):
        changed = x.clone()
        changed[:, S + t + 1 :] = torch.randint(4, data.n_classes, changed[:, S + t + 1 :].shape)
        out = model(changed)
        assert torch.allclose(out[:, :, : t + 1], base[:, :, : t + 1], atol=1e-6), t
        assert not torch.allclose(out[:, :, t + 1 :], base[:, :, t + 1 :])  # later positions do see them
    changed = x.clone()
    changed[:, :S] = torch.where(changed[:, :S] == PAD, PAD, 4 + (changed[:, :S] - 3) % (data.source_vocab_size - 4))
    assert not torch.allclose(model(changed)[:, :, 0], base[:, :, 0])  # every position sees the source


def test_evaluate_counts_tokens_not_sentences():
    _, data = tiny_data()
    model = tiny_model(data)
    loss, accuracy = evaluate(model, data.x_test, data.y_test)
    logits = model(data.x_test)
    keep = data.y_test != IGNORE
    assert loss == pytest.approx(float(F.cross_entropy(logits, data.y_test)), rel=1e-6)
    assert accuracy == pytest.approx(100.0 * float((logits.argmax(1) == data.y_test)[keep].float().mean()))


def test_the_taxonomy_hessian_runs_on_the_transformer_and_matches_the_full_hessian():
    _, data = tiny_data(n_train=8, width=4)
    model = tiny_model(data, width=4, heads=1)
    x, y = data.x_train, data.y_train
    theta = flat_parameters(model).double()
    loss = parameter_loss(model.double(), x.double(), y)
    # the reference: reverse-over-reverse autograd (torch.func.hessian, i.e. curvature.full_hessian, is wrong
    # for LayerNorm weights in torch 2.13: vmap over jacfwd; the HVPs of curvature.hvp are right)
    exact = torch.autograd.functional.hessian(loss, theta)
    v = torch.randn(theta.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert torch.allclose(curvature.hvp(loss, theta, v), exact @ v, rtol=1e-7, atol=1e-9)  # forward AD works
    eigenvalues = torch.linalg.eigvalsh(0.5 * (exact + exact.T))
    model.float()
    generator = torch.Generator().manual_seed(0)
    top, _ = hessian_top(model, x, y, max_iter=300, rel_tol=1e-8, generator=generator)
    trace, _ = hessian_trace(model, x, y, max_iter=200, rel_tol=0.0, generator=generator)
    assert top == pytest.approx(float(eigenvalues[eigenvalues.abs().argmax()]), rel=1e-3)
    assert trace == pytest.approx(float(eigenvalues.sum()), rel=0.25)  # 200 Rademacher probes, seeded


def test_training_raises_bleu_and_greedy_decoding_is_consistent_with_teacher_forcing():
    cell, data = tiny_data(n_train=64, n_test=16, width=16, batch_size=16)
    model = tiny_model(data, width=16)
    settings = mt.TranslationSettings(lr=1e-2, batch_size=16, updates=300, warmup=20, eval_every=150)
    result = mt.train_translation(model, data, settings, seed=0)
    assert result.history["update"].tolist() == [150, 300] and not result.diverged
    untrained = mt.bleu(tiny_model(data, width=16), data)
    assert result.history["test_bleu"].iloc[-1] > untrained + 10.0
    assert result.history["test_bleu"].iloc[-1] == pytest.approx(mt.bleu(model, data))  # the final model
    source = data.x_test[:, : data.source_len]
    decoded = greedy_decode(model, source, BOS, EOS)
    prefix = torch.cat([torch.full((len(source), 1), BOS), decoded[:, :-1]], dim=1)
    forced = model(torch.cat([source, prefix], dim=1)).argmax(1)
    for row, expected in zip(decoded.tolist(), forced.tolist()):
        n = row.index(EOS) + 1 if EOS in row else len(row)
        assert row[:n] == expected[:n]


# --- schedule, training record, claims ------------------------------------------------------------------


def test_learning_rate_schedules():
    constant = mt.TranslationSettings(lr=1.0, warmup=100)
    inverse = mt.TranslationSettings(lr=1.0, warmup=100, schedule="inverse_sqrt")
    for settings in (constant, inverse):
        assert mt.learning_rate(settings, 0) == pytest.approx(0.01)
        assert mt.learning_rate(settings, 49) == pytest.approx(0.5)
        assert mt.learning_rate(settings, 99) == pytest.approx(1.0)
    assert mt.learning_rate(constant, 10_000) == 1.0
    assert mt.learning_rate(inverse, 399) == pytest.approx(0.5)  # sqrt(100 / 400)
    assert mt.learning_rate(mt.TranslationSettings(lr=1.0, warmup=0, schedule="inverse_sqrt"), 3) == 0.5


def test_training_resumes_to_the_same_result(tmp_path):
    cell, data = tiny_data()
    settings = mt.TranslationSettings(lr=3e-3, batch_size=8, updates=12, warmup=2, eval_every=6)
    reference = mt.train_translation(tiny_model(data), data, settings, 0)
    path = str(tmp_path / "replica.pt")
    with pytest.raises(SimulatedKill):  # killed after 2 of the 4 epochs (3 updates each), one evaluation done
        mt.train_translation(tiny_model(data), data, settings, 0, path, _stop_after=2)
    resumed = mt.train_translation(tiny_model(data), data, settings, 0, path)
    again = mt.train_translation(tiny_model(data), data, settings, 0, path)  # finds the finished checkpoint
    for result in (resumed, again):
        assert all(torch.equal(result.state[k], reference.state[k]) for k in reference.state)
        pd.testing.assert_frame_equal(result.history, reference.history)


def schedule_table(final, best, widths=(8, 16, 32), temperatures=(8, 32, 128)):
    rows = []
    k = 0
    for w in widths:
        for t in temperatures:
            rows.append({"width": w, "temperature": t, "final_bleu": final[k], "best_bleu": best[k],
                         "early_stop_gain": best[k] - final[k], "early_stop_gain_se": 0.2})
            k += 1
    return pd.DataFrame(rows)


def test_early_stopping_and_schedule_claims():
    criteria = mt.TranslationCriteria()
    final = np.linspace(10, 30, 9)
    gained = mt.early_stopping_claim(schedule_table(final, final + 5.0), criteria, "constant")
    assert gained["verdict"] == "holds" and gained["value"] == pytest.approx(5.0)
    flat = mt.early_stopping_claim(schedule_table(final, final + 0.3), criteria, "constant")
    assert flat["verdict"] == "fails"
    same = mt.schedule_claim(schedule_table(final, final), schedule_table(final + 1.0, final + 1.0), criteria)
    assert same["verdict"] == "holds" and same["value"] == pytest.approx(1.0)
    shifted = mt.schedule_claim(schedule_table(final, final), schedule_table(final - 5.0, final), criteria)
    assert shifted["verdict"] == "fails" and "-5.00" in shifted["detail"]
    shuffled = mt.schedule_claim(schedule_table(final, final), schedule_table(final[::-1], final), criteria)
    assert shuffled["verdict"] == "fails" and shuffled["value"] == pytest.approx(-1.0)


def test_connectivity_and_double_descent_claims():
    rules = PhaseRules(connected_tolerance=0.1)
    cells = schedule_table(np.zeros(9), np.zeros(9)).assign(
        mc=[-1.0, -0.5, -0.2] * 3, phase="I",
        test_bleu=[20.0, 10.0, 25.0, 21.0, 22.0, 26.0, 30.0, 31.0, 32.0])
    poor = mt.connectivity_claim(cells, rules)
    assert poor["verdict"] == "holds" and poor["value"] == pytest.approx(-0.5)
    assert mt.connectivity_claim(cells.assign(mc=0.0), rules)["verdict"] == "fails"
    width_wise, temperature_wise = mt.double_descent_claims(cells, mt.TranslationCriteria())
    assert width_wise["verdict"] == "fails"  # along width every line rises
    assert temperature_wise["verdict"] == "holds" and "temperature 32" in temperature_wise["detail"]


# --- the workflow -----------------------------------------------------------------------------------------


@pytest.mark.workflow
def test_translation_target_at_smoke_scale(tmp_path):
    from conftest import smoke_results
    from test_workflow import SMOKE, assert_figures_written, snakemake

    snakemake(tmp_path, "taxonomy_translation", "--configfile", str(SMOKE))
    results = smoke_results(tmp_path)
    assert_figures_written(results, "taxonomy", ["translation_fig18", "translation_fig19"])
    claims = pd.read_csv(results / "taxonomy_translation_claims.csv")
    assert {"mt poorly connected", "mt early stopping", "mt lr schedule"} <= set(claims["claim"])
    assert set(claims["verdict"]) <= {"holds", "fails", "undetermined"} and (claims["study"] == "taxonomy").all()
    cells = pd.read_parquet(results / "taxonomy" / "translation" / "tables" / "cells.parquet")
    assert len(cells) == 4 and cells[["mc", "cka", "hessian_trace", "test_bleu"]].notna().all().all()


@pytest.mark.workflow
def test_a_bad_corpus_fails_before_any_job_naming_the_key(tmp_path):
    from test_workflow import SMOKE, snakemake, write_override

    corpus = tmp_path / "corpus.tsv"
    corpus.write_text("a b\tc d\nno tab here\n")
    bad = write_override(tmp_path / "bad.yaml", {"taxonomy": {"translation": {"data": {
        "name": "parallel", "path": str(corpus), "n_train": None, "n_test": 1}}}})
    result = snakemake(tmp_path, "taxonomy_translation", "-n", "--configfile", str(SMOKE), str(bad), check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "taxonomy.translation.data.path: " in output and "line 2: expected 'source<TAB>target'" in output
    odd = write_override(tmp_path / "odd.yaml", {"taxonomy": {"translation": {
        "model": {"heads": 4}, "load": {"axis": "width", "values": [8, 15]}}}})
    result = snakemake(tmp_path, "taxonomy_translation", "-n", "--configfile", str(SMOKE), str(odd), check=False)
    assert result.returncode != 0
    assert "taxonomy.translation.load.values: widths [15]" in result.stdout + result.stderr


@pytest.mark.workflow
def test_translation_stays_out_of_all_unless_on_the_scoreboard(tmp_path):
    from test_workflow import SMOKE, planned_jobs, write_override

    assert not [rule for rule, _ in planned_jobs(tmp_path, "--configfile", str(SMOKE)) if "translation" in rule]
    on = write_override(tmp_path / "on.yaml", {"taxonomy": {"translation": {"scoreboard": True}}})
    rules = {rule for rule, _ in planned_jobs(tmp_path, "claims", "--configfile", str(SMOKE), str(on))}
    assert {"taxonomy_translation_claims", "taxonomy_translation_figures"} <= rules
