"""Yang et al., machine translation (App. D.4, Figs. 18-19): the width x temperature phase diagram of an
encoder-decoder Transformer and the constant versus inverse-square-root learning rate, each at the end of
training and with optimal early stopping.

The paper trains six-layer, eight-head Transformers on 4K IWSLT'16 De-En pairs with Adam for 80K updates
(4K linear warm-up, 10 % label smoothing, no dropout; App. B.3), load = the embedding dimension, temperature
= the batch size; mode connectivity on the training *loss* (Sec. 2, "for all the experiments except neural
machine translation, we use the training error"). Here (docs/taxonomy.md): the same protocol at CPU scale on
``data.translation``'s synthetic language (or a user-supplied corpus), a ``nets.transformer`` model.

The cells are ``core.grids.Cell`` (``lr`` the peak learning rate, ``schedule`` ``constant`` or
``inverse_sqrt``) and every metric is the taxonomy one: ``experiment.local_metrics`` (token-level loss and
accuracy, Hessian top eigenvalue and trace on one batch of sentence pairs), ``experiment.connect_replicas``
(the Bezier curve), ``experiment.aggregate_cells`` and ``label_phases`` (mc from the loss). What is new:
Adam training with the per-update schedule and periodic test evaluation (for "optimal early stopping":
the best test score during training, Nakkiran et al.), BLEU of greedy translations (``sacrebleu``) as the
quality stand-in, and CKA of the per-token softmax outputs on perturbed source sentences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sacrebleu
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from thermoscape.claims import row, standard_error
from thermoscape.core.grids import Cell
from thermoscape.core.seeds import derive_seed
from thermoscape.data.batches import BatchOrder
from thermoscape.data.translation import (
    BOS,
    EOS,
    IGNORE,
    SPECIALS,
    Vocabulary,
    corpus_table,
    encode_pairs,
    read_parallel_corpus,
    split_pairs,
    synthetic_pairs,
    table_pairs,
)
from thermoscape.dynamics.train import Checkpoint, Optimizer, train
from thermoscape.measure import similarity
from thermoscape.nets import build
from thermoscape.nets.networks import evaluate, outputs
from thermoscape.nets.transformer import greedy_decode
from thermoscape.studies.taxonomy.experiment import CellData, PhaseRules, aggregate_cells, l2_distance

SCHEDULES = ("constant", "inverse_sqrt")
HISTORY_COLUMNS = ["update", "epoch", "lr", "train_loss", "test_loss", "test_accuracy", "test_bleu"]


# --- data -----------------------------------------------------------------------------------------


def load_corpus(data: Mapping[str, Any], key: str = "taxonomy.translation.data") -> pd.DataFrame:
    """The corpus of config ``data`` (``name`` synthetic or parallel, module ``data.translation``) split by
    ``split_pairs`` into ``n_test`` test and ``n_train`` training pairs, as ``corpus_table``."""
    if data["name"] == "synthetic":
        if data["n_train"] is None:
            raise ValueError(f"{key}.n_train: the synthetic language needs a number of training pairs")
        pairs = synthetic_pairs(data["n_train"] + data["n_test"], data["vocab"], data["min_len"], data["max_len"],
                                data["seed"])
    else:
        if not data.get("path"):
            raise ValueError(f"{key}.path: a parallel corpus needs the path of its TSV file (source<TAB>target)")
        pairs = read_parallel_corpus(data["path"], f"{key}.path")
    return corpus_table(*split_pairs(pairs, data["n_train"], data["n_test"], data["seed"], key))


@dataclass
class TranslationData(CellData):
    """A cell's tensors (``CellData``: ``x`` packed source + decoder input, ``y`` the target tokens with
    padding ``-100``, ``n_classes`` the target vocabulary) and what BLEU needs."""

    source_len: int
    source_vocab_size: int
    target_vocab: Vocabulary
    references: list[str]  # the test targets, space-joined


def translation_data(table: pd.DataFrame, cell: Cell, device: torch.device | str = "cpu") -> TranslationData:
    """The corpus table (``data.translation.corpus_table``) as tensors: the first ``subset`` of the training
    pairs, vocabularies from the training pairs (test words unseen in training become ``<unk>``), sources
    padded to the longest training source, targets to the longest training target plus ``</s>``."""
    train_pairs, test_pairs = table_pairs(table, "train"), table_pairs(table, "test")
    train_pairs = train_pairs[: int(len(train_pairs) * cell.subset)]
    if len(train_pairs) < cell.batch_size:
        raise ValueError(f"cell {cell.name}: {len(train_pairs)} training pairs are fewer than one batch")
    source_vocab = Vocabulary.of([s for s, _ in train_pairs])
    target_vocab = Vocabulary.of([t for _, t in train_pairs])
    source_len = max(len(s) for s, _ in train_pairs)
    target_len = max(len(t) for _, t in train_pairs) + 1

    def tensors(pairs):
        encoded = encode_pairs(pairs, source_vocab, target_vocab, source_len, target_len)
        x = torch.tensor(np.concatenate([encoded.source, encoded.decoder_input], axis=1), device=device)
        return x, torch.tensor(encoded.target, device=device)

    (x_train, y_train), (x_test, y_test) = tensors(train_pairs), tensors(test_pairs)
    return TranslationData(x_train, y_train, x_test, y_test, len(target_vocab), source_len, len(source_vocab),
                           target_vocab, [" ".join(t) for _, t in test_pairs])


def translation_architecture(model: Mapping[str, Any], width: int, data: TranslationData) -> dict[str, Any]:
    """The ``nets.build`` description of the config's Transformer at embedding dimension ``width``."""
    return {"name": "transformer", "width": int(width), "source_vocab": int(data.source_vocab_size),
            "target_vocab": int(data.n_classes), "source_len": int(data.source_len),
            "target_len": int(data.x_train.shape[1] - data.source_len), "layers": int(model["layers"]),
            "heads": int(model["heads"]), "ff_multiplier": int(model["ff_multiplier"])}


# --- training (App. B.3: Adam, warm-up, label smoothing, a fixed number of updates) ----------------


@dataclass(frozen=True)
class TranslationSettings:
    """The MT protocol (config ``taxonomy.translation.training``; ``lr`` the peak learning rate)."""

    lr: float = 5e-4
    batch_size: int = 32
    updates: int = 2000
    warmup: int = 200
    schedule: str = "constant"
    label_smoothing: float = 0.1
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.98)
    eval_every: int = 100

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; valid: {', '.join(SCHEDULES)}")
        if min(self.batch_size, self.updates, self.eval_every) < 1 or self.warmup < 0:
            raise ValueError("batch_size, updates and eval_every must be >= 1, warmup >= 0")


def learning_rate(settings: TranslationSettings, update: int) -> float:
    """The learning rate of the 0-based ``update``: linear warm-up to ``lr`` over ``warmup`` updates, then
    ``lr`` (``constant``) or ``lr * sqrt(warmup / s)`` at update ``s = update + 1`` (``inverse_sqrt``, as
    fairseq's scheduler; ``lr / sqrt(s)`` without warm-up)."""
    s = update + 1
    if s < settings.warmup:
        return settings.lr * s / settings.warmup
    if settings.schedule == "inverse_sqrt":
        return settings.lr * math.sqrt(max(settings.warmup, 1) / s)
    return settings.lr


def translation_settings(cell: Cell, training: Mapping[str, Any]) -> TranslationSettings:
    fixed = {"lr": cell.lr, "weight_decay": cell.weight_decay, "batch_size": cell.batch_size,
             "schedule": cell.schedule}
    settings = {**training, **fixed}
    if "betas" in settings:
        settings["betas"] = tuple(settings["betas"])
    return TranslationSettings(**settings)


def bleu(model: nn.Module, data: TranslationData) -> float:
    """Corpus BLEU (sacrebleu, 0-100, on the tokens as given: ``tokenize="none"``) of the greedy
    translations of the test sources against the test targets."""
    decoded = greedy_decode(model, data.x_test[:, : data.source_len], BOS, EOS)
    hypotheses = [" ".join(data.target_vocab.sentence(ids)) for ids in decoded.tolist()]
    return float(sacrebleu.corpus_bleu(hypotheses, [data.references], tokenize="none", force=True).score)


@dataclass
class TranslationResult:
    state: dict
    history: pd.DataFrame  # HISTORY_COLUMNS, one row per evaluation
    diverged: bool


def train_translation(model: nn.Module, data: TranslationData, settings: TranslationSettings, seed: int,
                      checkpoint_path: str | None = None, *, _stop_after: int | None = None) -> TranslationResult:
    """Train ``model`` in place for ``settings.updates`` Adam updates (the last partial batch of each epoch
    dropped, reshuffled every epoch from ``seed``) on the label-smoothed token cross-entropy, the learning
    rate of ``learning_rate`` set before every update. Every ``eval_every`` updates and after the last:
    the test loss and token accuracy (plain cross-entropy, eval mode), the test BLEU and the mean training
    loss since the last evaluation. The final model is the result (Fig. 18: "80K gradient updates");
    the history gives the optimal early stopping (Fig. 19). A non-finite batch loss stops the run
    (``diverged``). With ``checkpoint_path`` the run resumes from its last epoch, to the same result
    (``_stop_after``: the trainer's kill hook, for the tests).

    The loop is ``dynamics.train.train`` (a built ``torch.optim.Adam``; the per-update schedule in its
    ``on_loss`` hook, the evaluations in ``on_step``)."""
    params = [p for p in model.parameters() if p.requires_grad]
    x, y = data.x_train, data.y_train
    steps_per_epoch = x.shape[0] // settings.batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"batch_size {settings.batch_size} exceeds the {x.shape[0]} training pairs")
    optimizer = Optimizer("adam", lr=settings.lr, weight_decay=settings.weight_decay,
                          betas=settings.betas).build(params)
    rows: list[list[float]] = []
    running = {"sum": 0.0, "count": 0}

    def step(index: Tensor) -> Tensor:
        index = index.to(x.device)
        model.train()
        loss = F.cross_entropy(model(x[index]), y[index], ignore_index=IGNORE,
                               label_smoothing=settings.label_smoothing)
        loss.backward()
        return loss

    def set_lr(epoch: int, i: int, _loss: Tensor) -> None:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(settings, epoch * steps_per_epoch + i)

    def after_step(epoch: int, i: int, loss: Tensor) -> str | None:
        update = epoch * steps_per_epoch + i + 1
        running["sum"] += float(loss.detach())
        running["count"] += 1
        if update % settings.eval_every == 0 or update == settings.updates:
            test_loss, test_accuracy = evaluate(model, data.x_test, data.y_test)
            rows.append([update, epoch, learning_rate(settings, update - 1), running["sum"] / running["count"],
                         test_loss, test_accuracy, bleu(model, data)])
            running.update(sum=0.0, count=0)
        return "updates" if update >= settings.updates else None

    def save_state() -> dict:
        return {"history": rows, "running": dict(running)}

    def load_state(saved: dict) -> None:
        rows[:] = [list(r) for r in saved["history"]]
        running.update(saved["running"])

    checkpoint = None if checkpoint_path is None else Checkpoint(
        checkpoint_path, {"settings": asdict(settings), "seed": seed}, save_state, load_state)
    epochs = math.ceil(settings.updates / steps_per_epoch)
    run = train(params, step, optimizer, epochs, batches=BatchOrder(x.shape[0], settings.batch_size, seed, "stream"),
                on_loss=set_lr, on_step=after_step, divergence="step", track_loss=False, checkpoint=checkpoint,
                _stop_after=_stop_after)
    model.eval()
    history = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    return TranslationResult({k: v.detach().clone() for k, v in model.state_dict().items()}, history,
                             run.diverged)


def train_translation_replicas(cell: Cell, data: TranslationData, study: Mapping[str, Any],
                               workdir: Path | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """``study["replicas"]`` Transformers of the cell: replica ``r`` starts from the initialisation seeded
    by (width, r), shared across temperatures, and draws its batches from a seed of (cell, r) (as
    ``experiment.train_replicas``). Returns the stored form (``arch``, ``states``, ``checkpoint``,
    ``diverged``; the ``experiment.load_models`` format) and the evaluation histories."""
    arch = translation_architecture(study["model"], cell.width, data)
    settings = translation_settings(cell, study["training"])
    results = []
    for r in range(study["replicas"]):
        model = build(arch, derive_seed(study["seed"], "translation_init", cell.width, r))
        model = model.to(data.x_train.device)
        seed = derive_seed(study["seed"], "translation_order", cell.name, r)
        path = None if workdir is None else str(Path(workdir) / f"replica{r}.pt")
        results.append(train_translation(model, data, settings, seed, path))
    stored = {"arch": arch, "states": [{k: v.cpu() for k, v in r.state.items()} for r in results],
              "checkpoint": ["final"] * len(results), "diverged": [bool(r.diverged) for r in results]}
    history = pd.concat([r.history.assign(replica=k, checkpoint="final", diverged=r.diverged)
                         for k, r in enumerate(results)], ignore_index=True)
    return stored, history


# --- measurements ---------------------------------------------------------------------------------


def perturbed_inputs(data: TranslationData, samples: int, token_noise: float, vocab: int,
                     generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """CKA's perturbed distribution Q (App. A.1) for sentences: ``samples`` training pairs (a random
    permutation, cycled) whose source words are each replaced, with probability ``token_noise``, by a
    uniformly drawn source word (mixup has no meaning for tokens); the decoder input stays the reference
    prefix. Returns the packed inputs and the target tokens (for the positions to compare)."""
    n = len(data.x_train)
    order = torch.cat([torch.randperm(n, generator=generator) for _ in range(-(-samples // n))])[:samples]
    x, y = data.x_train[order.to(data.x_train.device)].clone(), data.y_train[order.to(data.x_train.device)]
    source = x[:, : data.source_len]
    words = torch.randint(len(SPECIALS), vocab, source.shape, generator=generator).to(x.device)
    flip = (torch.rand(source.shape, generator=generator) < token_noise).to(x.device) & (source >= len(SPECIALS))
    x[:, : data.source_len] = torch.where(flip, words, source)
    return x, y


def token_cka_pairs(models: Sequence[nn.Module], data: TranslationData, cka: Mapping[str, Any], seed: int,
                    cell: Cell) -> pd.DataFrame:
    """Linear CKA (Eq. 3; ``similarity.linear_cka``) for every ordered pair of replicas, each pair on fresh
    ``perturbed_inputs``: the rows are the target positions (not padding) of all the sentences, the
    features the softmax output over the target vocabulary (``cka``; the logits: ``cka_logits``); with the
    pair's L2 distance (as ``experiment.cka_pairs``)."""
    generator = torch.Generator().manual_seed(derive_seed(seed, "translation_cka", cell.name))
    rows = []
    for i, model_a in enumerate(models):
        for j, model_b in enumerate(models):
            if i == j:
                continue
            x, y = perturbed_inputs(data, cka["samples"], cka["token_noise"], data.source_vocab_size, generator)
            keep = y != IGNORE
            logits_a, logits_b = (outputs(m, x).transpose(1, 2)[keep] for m in (model_a, model_b))
            rows.append({"replica_a": i, "replica_b": j,
                         "cka": similarity.linear_cka(logits_a.softmax(-1), logits_b.softmax(-1)),
                         "cka_logits": similarity.linear_cka(logits_a, logits_b), "l2": l2_distance(model_a, model_b)})
    return pd.DataFrame(rows, columns=["replica_a", "replica_b", "cka", "cka_logits", "l2"])


def replica_bleu(models: Sequence[nn.Module], data: TranslationData) -> list[float]:
    return [bleu(model, data) for model in models]


# --- tables ---------------------------------------------------------------------------------------


def early_stopping(history: pd.DataFrame) -> pd.DataFrame:
    """Per replica: the final test BLEU and loss (the end of training) and the optimal early stopping (the
    best test BLEU and the lowest test loss over the evaluations; Nakkiran et al., Fig. 19)."""
    rows = []
    for replica, part in history.groupby("replica"):
        last = part.sort_values("update").iloc[-1]
        rows.append({"replica": replica, "final_bleu": float(last["test_bleu"]),
                     "best_bleu": float(part["test_bleu"].max()), "final_test_loss": float(last["test_loss"]),
                     "best_test_loss": float(part["test_loss"].min()), "final_train_loss": float(last["train_loss"]),
                     "diverged": bool(part["diverged"].any())})
    return pd.DataFrame(rows)


def schedule_cells(grid: Sequence[Mapping[str, Any]], histories: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Fig. 19's table: per cell of a grid (rows of ``core.grids.experiment_grid``), the replica means of
    ``early_stopping`` with their standard errors (``*_se``) and the replica count."""
    rows = []
    for cell, history in zip(grid, histories):
        table = early_stopping(history)
        values = {}
        for column in ("final_bleu", "best_bleu", "final_test_loss", "best_test_loss", "final_train_loss"):
            values[column] = float(table[column].mean())
            values[f"{column}_se"] = standard_error(table[column])
        gain = table["best_bleu"] - table["final_bleu"]
        rows.append({**cell, **values, "early_stop_gain": float(gain.mean()), "early_stop_gain_se": standard_error(gain),
                     "diverged": bool(table["diverged"].any()), "n_replicas": len(table)})
    return pd.DataFrame(rows)


def translation_cells(grid: Sequence[Mapping[str, Any]], tables: Mapping[str, Sequence[pd.DataFrame]],
                      rules: PhaseRules, experiment: str = "translation") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fig. 18's table: ``experiment.aggregate_cells`` with mc from the training **loss** along the curve
    (the paper's choice for MT; ``mc_error`` keeps the token-error one), the test BLEU of the final models
    (``test_bleu``) and the early-stopping columns of ``schedule_cells``."""
    cells, curves = aggregate_cells(grid, tables, rules, experiment, mc_column="train_loss")
    errors, _ = aggregate_cells(grid, tables, rules, experiment)
    cells["mc_loss"] = cells["mc"]  # for the figure's "mc_loss" panel (nats, not percentage points)
    cells["mc_error"] = errors["mc"].to_numpy()
    cells["test_bleu"] = [float(r["bleu"].mean()) for r in tables["replicas"]]
    stops = schedule_cells(grid, tables["training"])
    for column in ("best_bleu", "best_bleu_se", "final_bleu_se", "early_stop_gain", "early_stop_gain_se",
                   "best_test_loss"):
        cells[column] = stops[column].to_numpy()
    return cells, curves


# --- claims (App. D.4) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TranslationCriteria:
    """Claim criteria (config ``taxonomy.translation.claims``)."""

    dip: float = 1.0  # double descent: a test-BLEU dip (BLEU points) below both neighbours along an axis
    noise_sigmas: float = 2.0  # early stopping: the mean gain stands this many standard errors above 0
    early_stop_gain: float = 1.0  # and exceeds this many BLEU points ("significantly improves")
    rank_agreement: float = 0.8  # inverse-sqrt vs constant: Spearman over the cells at least this
    schedule_change: float = 2.0  # and the mean BLEU difference within this many points ("does not change")


def _claim(name, quantity, paper, criterion, value=np.nan, uncertainty=np.nan, n=0, passed=None, detail="",
           slice_name="translation", fit_range="", outside_regime=""):
    return row(name, quantity, paper, criterion, value, uncertainty, n, passed, detail, slice_name,
               study="taxonomy", fit_range=fit_range, outside_regime=outside_regime)


def _grid_range(cells: pd.DataFrame) -> str:
    return (f"{len(cells)} cells: width {cells['width'].min():g}-{cells['width'].max():g}, "
            f"{cells['temperature'].min():g}-{cells['temperature'].max():g} on the temperature axis")


def connectivity_claim(cells: pd.DataFrame, rules: PhaseRules) -> dict[str, Any]:
    """Fig. 18c: "the mode connectivity ... remains poor even if we increase the width of the model to a
    large value": the median mc (loss) over the widest column is below ``-connected_tolerance``."""
    widest = cells[cells["width"] == cells["width"].max()]
    mc = widest["mc"].dropna()
    value = float(mc.median()) if len(mc) else np.nan
    poor = int((cells["mc"] < -rules.connected_tolerance).sum())
    return _claim("mt poorly connected", "median mc (training loss, nats/token) at the largest width",
                  "mode connectivity stays negative up to the largest embedding dimension (Fig. 18c)",
                  f"median mc < -{rules.connected_tolerance:g} in the widest column", value,
                  standard_error(mc), len(mc), None if not len(mc) else bool(value < -rules.connected_tolerance),
                  f"width {cells['width'].max():g}: mc {', '.join(f'{v:+.3f}' for v in mc)}; {poor} of "
                  f"{len(cells)} cells poorly connected; phases {cells['phase'].value_counts().to_dict()}",
                  fit_range=_grid_range(cells))


def _dips(cells: pd.DataFrame, along: str, across: str, column: str, depth_min: float) -> list[str]:
    found = []
    for value, line in cells.sort_values(along).groupby(across):
        score = line[column].to_numpy(dtype=float)
        depth = np.minimum(score[:-2], score[2:]) - score[1:-1]
        if len(depth) and np.nanmax(depth) > depth_min:
            k = int(np.nanargmax(depth))
            found.append(f"{across} {value:g}: {along} {line[along].iloc[k + 1]:g} ({depth[k]:.1f} below)")
    return found


def double_descent_claims(cells: pd.DataFrame, criteria: TranslationCriteria,
                          temperature_axis: str = "batch_size") -> list[dict[str, Any]]:
    """Fig. 18a: "the results exhibit both width-wise and temperature-wise double descent": in some row
    (column) the final test BLEU at an inner width (temperature) lies more than ``criteria.dip`` points
    below both neighbours."""
    rows = []
    for axis, across, name in (("width", "temperature", "width-wise"), ("temperature", "width", "temperature-wise")):
        dips = _dips(cells, axis, across, "test_bleu", criteria.dip)
        enough = cells[axis].nunique() >= 3
        rows.append(_claim(f"mt {name} double descent", f"lines with a test-BLEU dip along {axis}",
                           f"{name} double descent of the test score (Fig. 18a)",
                           f"a dip > {criteria.dip:g} BLEU points below both neighbours in at least one line",
                           len(dips), np.nan, cells[across].nunique(), bool(dips), "; ".join(dips),
                           fit_range=_grid_range(cells),
                           outside_regime="" if enough else f"fewer than 3 values of {axis}"))
    return rows


def early_stopping_claim(cells: pd.DataFrame, criteria: TranslationCriteria, schedule: str) -> dict[str, Any]:
    """Fig. 19, rows: "optimal early stopping significantly improves test accuracy": over the cells, the
    mean gain of the best test BLEU during training over the final one exceeds ``early_stop_gain`` points
    and ``noise_sigmas`` standard errors (the spread over cells and replicas)."""
    gain = cells["early_stop_gain"].dropna()
    mean = float(gain.mean()) if len(gain) else np.nan
    se = float(np.sqrt(np.nanmean(cells["early_stop_gain_se"] ** 2) / max(len(gain), 1))) if len(gain) else np.nan
    se = float(np.nanmax([se, standard_error(gain)])) if len(gain) > 1 else se
    passed = None if not len(gain) else bool(mean > criteria.early_stop_gain and mean > criteria.noise_sigmas * se)
    return _claim("mt early stopping", "mean gain of the best over the final test BLEU (points)",
                  "optimal early stopping significantly improves the test score (Fig. 19, rows)",
                  f"mean gain > {criteria.early_stop_gain:g} points and > {criteria.noise_sigmas:g} standard errors",
                  mean, se, len(gain), passed,
                  f"{schedule} lr; per cell {', '.join(f'{v:.1f}' for v in gain)}; final BLEU "
                  f"{cells['final_bleu'].min():.1f}-{cells['final_bleu'].max():.1f}, best "
                  f"{cells['best_bleu'].min():.1f}-{cells['best_bleu'].max():.1f}",
                  slice_name=f"translation {schedule}", fit_range=_grid_range(cells))


def schedule_claim(constant: pd.DataFrame, inverse_sqrt: pd.DataFrame,
                   criteria: TranslationCriteria) -> dict[str, Any]:
    """Fig. 19, columns: "the inverse square-root learning rate does not significantly change the results":
    on the shared cells, the final test BLEU of the two schedules has Spearman >= ``rank_agreement`` and
    a mean difference within ``schedule_change`` points."""
    from scipy.stats import spearmanr

    keys = ["width", "temperature"]
    both = constant.merge(inverse_sqrt, on=keys, suffixes=("_constant", "_inverse_sqrt"))
    both = both.dropna(subset=["final_bleu_constant", "final_bleu_inverse_sqrt"])
    if len(both) < 3:
        return _claim("mt lr schedule", "Spearman of the final test BLEU, inverse-sqrt vs constant lr",
                      "the inverse square-root lr does not significantly change the results (Fig. 19, columns)",
                      "Spearman >= rank_agreement and |mean difference| <= schedule_change", n=len(both),
                      outside_regime="fewer than 3 shared cells")
    difference = both["final_bleu_inverse_sqrt"] - both["final_bleu_constant"]
    rho = float(spearmanr(both["final_bleu_constant"], both["final_bleu_inverse_sqrt"]).statistic)
    mean = float(difference.mean())
    passed = bool(rho >= criteria.rank_agreement and abs(mean) <= criteria.schedule_change)
    return _claim("mt lr schedule", "Spearman of the final test BLEU, inverse-sqrt vs constant lr",
                  "the inverse square-root lr does not significantly change the results (Fig. 19, columns)",
                  f"Spearman >= {criteria.rank_agreement:g} and |mean difference| <= {criteria.schedule_change:g} "
                  "BLEU points", rho, np.nan, len(both), passed,
                  f"mean difference (inverse-sqrt - constant) {mean:+.2f} points (SE {standard_error(difference):.2f});"
                  f" early-stopped: {float((both['best_bleu_inverse_sqrt'] - both['best_bleu_constant']).mean()):+.2f}",
                  slice_name="translation schedules", fit_range=_grid_range(both))


def translation_claims(cells: pd.DataFrame, schedules: Mapping[str, pd.DataFrame], rules: PhaseRules,
                       criteria: TranslationCriteria, temperature_axis: str = "batch_size") -> list[dict[str, Any]]:
    """Every MT claim: connectivity (Fig. 18c), double descent (Fig. 18a), early stopping per schedule and
    the schedule comparison (Fig. 19)."""
    rows = [connectivity_claim(cells, rules), *double_descent_claims(cells, criteria, temperature_axis)]
    rows += [early_stopping_claim(table, criteria, name) for name, table in schedules.items()]
    if {"constant", "inverse_sqrt"} <= set(schedules):
        rows.append(schedule_claim(schedules["constant"], schedules["inverse_sqrt"], criteria))
    return rows
