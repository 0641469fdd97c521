"""Parallel corpora for the machine-translation phase diagram (Yang et al., App. D.4, Figs. 18-19).

The paper trains Transformers on 4K sentence pairs of IWSLT 2016 De-En (App. B.1, after Nakkiran et al.'s
double-descent setup). Nothing can be downloaded here, so the default scale uses an offline synthetic
"translation" (``synthetic_pairs``) and a paper-scale run reads a user-supplied corpus
(``read_parallel_corpus``):

* **synthetic**: a source sentence is ``L`` words drawn uniformly from ``vocab`` source words ``s0 ..``
  (``L`` uniform in ``[min_len, max_len]``); its translation is the sentence **reversed** with every word
  replaced through a fixed, seeded one-to-one **lexicon** onto the target words ``t0 ..``. A model must learn
  the lexicon (a word-to-word map, like a dictionary) and the reordering (attention to position
  ``L + 1 - i``, a long-range alignment as between SVO and SOV languages); the rule is deterministic, so
  the only limit to generalisation is the finite training set, as for the paper's 4K pairs.
* **parallel corpus** (a TSV file): one pair per line, ``source<TAB>target``, each side a
  whitespace-tokenised sentence (e.g. the output of a BPE tokenizer); blank lines are skipped, a line
  without exactly one tab or with an empty side is an error naming the line.

``encode_pairs`` turns pairs into fixed-size integer arrays: the source padded to ``S`` tokens, the
decoder input ``BOS y_1 .. y_n`` and the decoder target ``y_1 .. y_n EOS`` padded to ``T`` tokens, the
target's padding being ``IGNORE`` (-100, ``torch.nn.functional.cross_entropy``'s ``ignore_index``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")
IGNORE = -100  # target padding: ignored by cross_entropy (its default ignore_index)

Pair = tuple[list[str], list[str]]


def lexicon(vocab: int, seed: int) -> dict[str, str]:
    """The synthetic language's fixed word-to-word map ``s{i} -> t{perm[i]}``, one-to-one, seeded."""
    permutation = np.random.default_rng([seed, 1]).permutation(vocab)
    return {f"s{i}": f"t{int(j)}" for i, j in enumerate(permutation)}


def translate(source: Sequence[str], words: dict[str, str]) -> list[str]:
    """The synthetic translation of ``source``: reversed, every word through the lexicon ``words``."""
    return [words[w] for w in reversed(source)]


def synthetic_pairs(n: int, vocab: int, min_len: int, max_len: int, seed: int) -> list[Pair]:
    """``n`` (source, target) pairs of the synthetic language (module docstring): lengths uniform in
    ``[min_len, max_len]``, words uniform among ``vocab``, the lexicon seeded by ``seed`` too. Deterministic
    in its arguments."""
    if not 1 <= min_len <= max_len:
        raise ValueError(f"need 1 <= min_len <= max_len, got {min_len} and {max_len}")
    if vocab < 2:
        raise ValueError(f"vocab must be at least 2, got {vocab}")
    rng = np.random.default_rng([seed, 0])
    words = lexicon(vocab, seed)
    pairs = []
    for length in rng.integers(min_len, max_len + 1, size=n):
        source = [f"s{int(i)}" for i in rng.integers(0, vocab, size=int(length))]
        pairs.append((source, translate(source, words)))
    return pairs


def read_parallel_corpus(path: str | os.PathLike, key: str = "path") -> list[Pair]:
    """The pairs of a TSV parallel corpus (module docstring). Raises ``ValueError`` naming the config
    ``key``, the file and the line for a missing file, a line without exactly one tab or an empty side,
    or a file without pairs."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{key}: {path} is not a file (a parallel corpus: one 'source<TAB>target' pair a line)")
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 2:
                raise ValueError(f"{key}: {path}, line {number}: expected 'source<TAB>target' (one tab), "
                                 f"found {len(parts) - 1} tabs")
            source, target = parts[0].split(), parts[1].split()
            if not source or not target:
                side = "source" if not source else "target"
                raise ValueError(f"{key}: {path}, line {number}: the {side} sentence is empty")
            pairs.append((source, target))
    if not pairs:
        raise ValueError(f"{key}: {path} holds no sentence pair")
    return pairs


def split_pairs(pairs: Sequence[Pair], n_train: int | None, n_test: int, seed: int,
                key: str = "data") -> tuple[list[Pair], list[Pair]]:
    """A seeded random split: ``n_test`` test pairs, then ``n_train`` training pairs (None: the rest)
    from the remaining ones (the paper "randomly sample[s] 4K sentence pairs", App. B.1)."""
    wanted = n_test + (0 if n_train is None else n_train)
    if wanted > len(pairs) or n_test < 1 or (n_train is not None and n_train < 1):
        raise ValueError(f"{key}: n_train {n_train} and n_test {n_test} need {wanted} of the "
                         f"{len(pairs)} sentence pairs (each at least 1)")
    order = np.random.default_rng([seed, 2]).permutation(len(pairs))
    test = [pairs[i] for i in order[:n_test]]
    rest = order[n_test:] if n_train is None else order[n_test:n_test + n_train]
    return [pairs[i] for i in rest], test


def corpus_table(train: Sequence[Pair], test: Sequence[Pair]) -> pd.DataFrame:
    """The split corpus as one table (``split``, ``source``, ``target``; sentences space-joined)."""
    rows = [{"split": split, "source": " ".join(s), "target": " ".join(t)}
            for split, pairs in (("train", train), ("test", test)) for s, t in pairs]
    return pd.DataFrame(rows, columns=["split", "source", "target"])


def table_pairs(table: pd.DataFrame, split: str) -> list[Pair]:
    part = table[table["split"] == split]
    return [(s.split(), t.split()) for s, t in zip(part["source"], part["target"])]


@dataclass(frozen=True)
class Vocabulary:
    """Token ids: the specials ``<pad> <s> </s> <unk>`` first, then the words in order."""

    words: tuple[str, ...]

    @classmethod
    def of(cls, sentences: Sequence[Sequence[str]]) -> Vocabulary:
        """The words of ``sentences`` (sorted, so the ids do not depend on the order of the pairs)."""
        return cls(tuple(SPECIALS) + tuple(sorted({w for s in sentences for w in s} - set(SPECIALS))))

    def __len__(self) -> int:
        return len(self.words)

    def ids(self, sentence: Sequence[str]) -> list[int]:
        index = {w: i for i, w in enumerate(self.words)}
        return [index.get(w, UNK) for w in sentence]

    def sentence(self, ids: Sequence[int]) -> list[str]:
        """The words of ``ids`` up to the first ``</s>``, specials dropped."""
        words = []
        for i in ids:
            if i == EOS:
                break
            if i >= len(SPECIALS):
                words.append(self.words[i])
        return words


@dataclass
class Encoded:
    """``source (N, S)``, ``decoder_input (N, T)``, ``target (N, T)`` integer arrays (module docstring)."""

    source: np.ndarray
    decoder_input: np.ndarray
    target: np.ndarray


def encode_pairs(pairs: Sequence[Pair], source_vocab: Vocabulary, target_vocab: Vocabulary,
                 source_len: int, target_len: int) -> Encoded:
    """Pairs as padded arrays; a sentence longer than the room (``source_len``, ``target_len - 1``) is
    cut (the target keeps its ``</s>``)."""
    n = len(pairs)
    source = np.full((n, source_len), PAD, dtype=np.int64)
    decoder_input = np.full((n, target_len), PAD, dtype=np.int64)
    target = np.full((n, target_len), IGNORE, dtype=np.int64)
    for k, (s, t) in enumerate(pairs):
        s_ids = source_vocab.ids(s)[:source_len]
        t_ids = target_vocab.ids(t)[: target_len - 1]
        source[k, : len(s_ids)] = s_ids
        decoder_input[k, : len(t_ids) + 1] = [BOS, *t_ids]
        target[k, : len(t_ids) + 1] = [*t_ids, EOS]
    return Encoded(source, decoder_input, target)
