"""Argument types for argparse: each turns a word into a checked value or says why not."""

from __future__ import annotations

import argparse

from .common import MAX_LAYER_SIZE, MAX_SAMPLES


def fraction(text: str) -> float:
    """A fraction in [0, 1), for argparse."""
    value = number(text, 0.0, inclusive=True)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return value


def sizes(text: str) -> list[int]:
    """Hidden layer sizes "16,16" (or "none"), for argparse."""
    if text.strip().lower() == "none":
        return []
    try:
        sizes = [count(part.strip()) for part in text.split(",")]
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: layer sizes are whole numbers >= 1 "
                                         f"separated by commas, e.g. 16,16 ({error})") from None
    if max(sizes) > MAX_LAYER_SIZE:
        raise argparse.ArgumentTypeError(f"{text!r}: at most {MAX_LAYER_SIZE:,} neurons "
                                         "per layer")
    return sizes


def class_count(text: str) -> int:
    """A number of classes: 2 to MAX_SAMPLES (each class needs an example), for argparse."""
    value = count(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected at least 2 classes, got {value}")
    if value > MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"at most {MAX_SAMPLES:,} classes (each needs one "
                                         f"of at most {MAX_SAMPLES:,} examples), got {value:,}")
    return value


def sample_count(text: str) -> int:
    """A number of examples: 1 to MAX_SAMPLES, for argparse."""
    value = count(text)
    if value > MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"at most {MAX_SAMPLES:,} examples, got {value:,}")
    return value


def digits(text: str) -> int:
    """Significant digits of a printed number: 1 to 17 (a float64's all), for argparse."""
    value = count(text)
    if value > 17:
        raise argparse.ArgumentTypeError(f"at most 17 significant digits (all a float has), "
                                         f"got {value}")
    return value


def count(text: str) -> int:
    """A whole number >= 1, for argparse."""
    return whole_number(text, 1)


def zero_or_more(text: str) -> int:
    """A whole number >= 0 (a count that may be none, or a seed), for argparse."""
    return whole_number(text, 0)


def whole_number(text: str, low: int) -> int:
    """A whole number >= ``low``, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {low}, got {value}")
    return value


def number(text: str, low: float, inclusive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value >= low if inclusive else value > low) or value == float("inf"):
        expected = f">= {low:g}" if inclusive else f"> {low:g}"
        raise argparse.ArgumentTypeError(f"expected a finite number {expected}, got {text}")
    return value


def positive(text: str) -> float:
    """A finite number > 0, for argparse."""
    return number(text, 0.0, inclusive=False)


def non_negative(text: str) -> float:
    """A finite number >= 0, for argparse."""
    return number(text, 0.0, inclusive=True)
