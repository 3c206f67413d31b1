"""Metrics against scikit-learn and hand counts."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics
from hypothesis import given, settings
from hypothesis import strategies as st

from nn.metrics import accuracy, classes_from_outputs, confusion_matrix

labels = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(labels)
def test_accuracy_and_confusion_matrix_agree_with_scikit_learn(pairs):
    true, pred = map(np.array, zip(*pairs))
    assert accuracy(true, pred) == pytest.approx(sklearn.metrics.accuracy_score(true, pred))
    expected = sklearn.metrics.confusion_matrix(true, pred, labels=[0, 1, 2, 3])
    assert np.array_equal(confusion_matrix(true, pred, num_classes=4), expected)


def test_confusion_matrix_rows_are_the_true_classes():
    matrix = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2])
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_classes_from_outputs_thresholds_one_output_and_takes_argmax_of_several():
    assert classes_from_outputs([-0.5, 0.0, 0.2]).tolist() == [0, 0, 1]
    assert classes_from_outputs([[0.6], [0.4]], threshold=0.5).tolist() == [1, 0]
    assert classes_from_outputs([[0.1, 0.9, 0.0], [2.0, -1.0, 1.0]]).tolist() == [1, 0]


@pytest.mark.parametrize("call, message", [
    (lambda: accuracy([0, 1], [0]), "same length"),
    (lambda: accuracy([], []), "non-empty 1-D"),
    (lambda: accuracy([[0, 1]], [[0, 1]]), "non-empty 1-D"),
    (lambda: accuracy([0.5], [0]), "integer class indices"),
    (lambda: accuracy([-1], [0]), ">= 0"),
    (lambda: confusion_matrix([0, 3], [0, 1], num_classes=2), "num_classes must be an int >= 4"),
    (lambda: classes_from_outputs(np.zeros((2, 2, 2))), "(n,) or (n, k)"),
])
def test_bad_labels_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


@pytest.mark.parametrize("call, error, message", [
    (lambda: accuracy(["a"], [0]), TypeError, "y_true must hold integer class indices, got "
                                              "dtype <U1"),
    (lambda: accuracy([0j, 1], [0, 1]), TypeError, "got dtype complex128"),
    (lambda: accuracy([0, 1], [[0.1, 0.9], [0.8, 0.2]]), ValueError,  # raw scores of 2 classes
     r"y_pred must be a non-empty 1-D array of class indices, got shape \(2, 2\) \(for a "
     r"model's raw outputs \(n, k\), take the classes first: scores\.argmax\(axis=1\)\)"),
    (lambda: accuracy([0, 1], [[0.4], [-0.2]]), ValueError,  # one output: argmax is no help
     r"got shape \(2, 1\)$"),
    (lambda: accuracy([[0, 1], [1, 0]], [0, 1]), ValueError, r"y_true .* got shape \(2, 2\)$"),
    (lambda: accuracy([0, 1], [0.46, -0.2]), ValueError,  # a model's raw scores
     r"y_pred must hold integer class indices, got 0\.46 \(for a model's raw outputs, take "
     r"the classes first: scores > 0 for one output, scores\.argmax\(axis=1\) for several\)"),
    (lambda: accuracy([[0, 1], [1]], [0, 1]), ValueError,
     "y_true must be a 1-D array of class indices, one number per example"),
    (lambda: accuracy([1e20], [1e20 + 1e5]), ValueError,
     r"y_true must hold class indices below 2\*\*53, got 1e\+20"),
    (lambda: accuracy([0], [2.0 ** 64]), ValueError, r"y_pred must hold class indices below"),
    (lambda: confusion_matrix([1e19, 0], [0, 0]), ValueError, "below 2\\*\\*53"),
    (lambda: confusion_matrix([0], [10 ** 6]), ValueError,
     "a confusion matrix of 1,000,001 classes would hold 1,000,001\\^2 counts; at most 10,000"),
])
def test_labels_that_are_not_class_numbers_are_refused(call, error, message):
    """Labels of 2**63 and above wrapped to negative int64: 1e20 and 1e20 + 1e5 were
    "equal" (accuracy 1.0) and a confusion matrix failed with a bare IndexError; a label
    of a million asked for 7 TiB. Text and complex numbers are TypeErrors, as in the
    losses."""
    with pytest.raises(error, match=message):
        call()


def test_boolean_decisions_count_as_classes_zero_and_one():
    scores = np.array([0.3, -1.0, 2.0])
    assert accuracy([1, 0, 0], scores > 0) == pytest.approx(2 / 3)
