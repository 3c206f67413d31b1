"""A character tokenizer: each distinct character is a token, plus one boundary token.

As in microgpt, the vocabulary is the sorted set of characters of the documents,
numbered 0 .. V-2, and token V-1 (``bos``) marks both the beginning and the end of
a document: "emma" becomes [bos, e, m, m, a, bos]. A model trained on these learns
p(next token | previous tokens) and stops sampling when it predicts ``bos``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from autograd_scalar.validate import is_integer


class CharTokenizer:
    """Maps characters to token ids and back; ``bos`` is the boundary token.

    ``CharTokenizer("abc")`` has tokens a=0, b=1, c=2 and bos=3 (``vocab_size`` 4).
    ``CharTokenizer.from_documents(docs)`` takes every character that occurs in them.
    """

    def __init__(self, chars: Iterable[str]) -> None:
        if isinstance(chars, Iterable):
            items = list(chars)
        else:
            raise TypeError(f"CharTokenizer expects the characters as a str or an iterable of "
                            f"one-character strings, got {type(chars).__name__}")
        for item in items:
            if not isinstance(item, str) or len(item) != 1:
                raise ValueError(f"CharTokenizer: every character must be a one-character "
                                 f"str, got {item!r}")
        if not items:
            raise ValueError("CharTokenizer: expected at least one character, got none")
        self.chars: str = "".join(sorted(set(items)))
        self._ids = {ch: i for i, ch in enumerate(self.chars)}

    @classmethod
    def from_documents(cls, docs: Iterable[str]) -> CharTokenizer:
        """The tokenizer of every character occurring in ``docs`` (a list of strings)."""
        if isinstance(docs, str) or not isinstance(docs, Iterable):
            raise TypeError("CharTokenizer.from_documents expects a list of strings, got "
                            f"{type(docs).__name__}")
        texts = list(docs)
        for i, doc in enumerate(texts):
            if not isinstance(doc, str):
                raise TypeError(f"CharTokenizer.from_documents: document {i} is a "
                                f"{type(doc).__name__}, expected a str")
        return cls("".join(texts))

    @property
    def bos(self) -> int:
        """The boundary token, after the characters' ids."""
        return len(self.chars)

    @property
    def vocab_size(self) -> int:
        """The number of tokens, the characters and ``bos``."""
        return len(self.chars) + 1

    def encode(self, text: str, boundaries: bool = True) -> list[int]:
        """Token ids of ``text``, between two ``bos`` tokens unless ``boundaries`` is False."""
        if not isinstance(text, str):
            raise TypeError(f"encode expects a str, got {type(text).__name__}")
        ids = []
        for position, ch in enumerate(text):
            token = self._ids.get(ch)
            if token is None:
                raise ValueError(f"encode: character {ch!r} at position {position} of {text!r} "
                                 f"is not in the vocabulary {self.chars!r}")
            ids.append(token)
        return [self.bos, *ids, self.bos] if boundaries else ids

    def decode(self, ids: Sequence[int]) -> str:
        """The text of token ids (ints, NumPy integers included, as ``argmax`` gives
        them); ``bos`` tokens are dropped."""
        out = []
        for i in ids:
            if not is_integer(i) \
                    or not 0 <= i <= self.bos:
                raise ValueError(f"decode: expected token ids from 0 to {self.bos}, got "
                                 f"{i!r} (token ids are ints, NumPy's included)")
            if i != self.bos:
                out.append(self.chars[int(i)])
        return "".join(out)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, CharTokenizer) and other.chars == self.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    def __repr__(self) -> str:
        return f"CharTokenizer({self.chars!r}, vocab_size={self.vocab_size})"
