"""The two data sets of the 1986 backpropagation paper.

Rumelhart, Hinton and Williams, "Learning representations by back-propagating
errors", Nature 323 (1986), trained networks on two small tasks; both are built
here from their definitions, not stored.

- ``symmetry(n_bits)``: every binary pattern, labelled by whether it is its own mirror image.
- ``family_trees()``: two isomorphic family trees of 12 people each, one English
  and one Italian (Hinton, "Learning distributed representations of concepts",
  1986, figure 1), and the facts that hold in them over 12 relationships. A fact
  is a question (person, relationship) with every person that answers it, e.g.
  (Colin, aunt) -> {Jennifer, Margaret}.

The trees (``=`` joins a married couple; children stand below their parents)::

                Christopher = Penelope       Andrew = Christine
                           |                          |
                  -------------------        -------------------
                  |                 |        |                 |
    Margaret = Arthur           Victoria = James           Jennifer = Charles
                                        |
                                  ---------------
                                  |             |
                                Colin       Charlotte

                Roberto = Maria           Pierro = Francesca
                       |                           |
              --------------------       ---------------------
              |                  |       |                   |
    Gina = Emilio              Lucia = Marco              Angela = Tomaso
                                     |
                                --------------
                                |            |
                             Alfonso      Sophia

Relationships are read "the <relationship> of <person> is <answer>": (Colin,
father, James) says James is Colin's father. Uncles and aunts include those by
marriage (Margaret is Colin's aunt), and nephews and nieces likewise.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from autograd_scalar.validate import is_integer

from ..init import generator

RELATIONSHIPS: tuple[str, ...] = (
    "father", "mother", "husband", "wife", "son", "daughter",
    "uncle", "aunt", "brother", "sister", "nephew", "niece",
)

ENGLISH: tuple[str, ...] = (
    "Christopher", "Penelope", "Andrew", "Christine",
    "Margaret", "Arthur", "Victoria", "James", "Jennifer", "Charles",
    "Colin", "Charlotte",
)
ITALIAN: tuple[str, ...] = (
    "Roberto", "Maria", "Pierro", "Francesca",
    "Gina", "Emilio", "Lucia", "Marco", "Angela", "Tomaso",
    "Alfonso", "Sophia",
)
PEOPLE: tuple[str, ...] = ENGLISH + ITALIAN

_FEMALE = frozenset({
    "Penelope", "Christine", "Margaret", "Victoria", "Jennifer", "Charlotte",
    "Maria", "Francesca", "Gina", "Lucia", "Angela", "Sophia",
})

# (husband, wife, children) for each married couple of the English tree; the
# Italian tree is the same shape, person for person (ENGLISH[i] <-> ITALIAN[i]).
_ENGLISH_COUPLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Christopher", "Penelope", ("Arthur", "Victoria")),
    ("Andrew", "Christine", ("James", "Jennifer")),
    ("Arthur", "Margaret", ()),
    ("James", "Victoria", ("Colin", "Charlotte")),
    ("Charles", "Jennifer", ()),
)
_TO_ITALIAN = dict(zip(ENGLISH, ITALIAN))
_ITALIAN_COUPLES = tuple(
    (_TO_ITALIAN[h], _TO_ITALIAN[w], tuple(_TO_ITALIAN[c] for c in kids))
    for h, w, kids in _ENGLISH_COUPLES
)
COUPLES = _ENGLISH_COUPLES + _ITALIAN_COUPLES

MAX_SYMMETRY_BITS = 20


def symmetry(n_bits: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """All ``2**n_bits`` binary patterns and whether each is a mirror image of itself.

    Returns ``(X, y)``: ``X`` is float, shape ``(2**n_bits, n_bits)``, row ``i`` the
    bits of ``i`` with the most significant first; ``y[i]`` is 1 when
    ``X[i] == X[i, ::-1]`` and 0 otherwise. ``2**ceil(n_bits / 2)`` patterns are
    symmetric, since the first half of the bits fixes the rest.
    """
    if not is_integer(n_bits):
        raise TypeError(f"symmetry: n_bits must be an int, got {type(n_bits).__name__}")
    if not 1 <= n_bits <= MAX_SYMMETRY_BITS:
        raise ValueError(f"symmetry: n_bits must be between 1 and {MAX_SYMMETRY_BITS}, "
                         f"got {n_bits}")
    n_bits = int(n_bits)
    codes = np.arange(2**n_bits)
    shifts = np.arange(n_bits - 1, -1, -1)
    X = ((codes[:, None] >> shifts) & 1).astype(float)
    y = np.all(X[:, ::-1] == X, axis=1).astype(int)
    return X, y


@dataclass(frozen=True)
class Fact:
    """One question and its answers: every ``answer`` is the ``relationship`` of ``person``."""

    person: str
    relationship: str
    answers: tuple[str, ...]

    def triples(self) -> list[tuple[str, str, str]]:
        """The fact as (person, relationship, answer) triples, one per answer."""
        return [(self.person, self.relationship, answer) for answer in self.answers]


@dataclass(frozen=True)
class FamilyTrees:
    """The 24 people, 12 relationships and 104 facts of the two family trees.

    ``encode`` turns facts into network inputs and targets the way the paper
    presents them: the person and the relationship as one-hot codes side by
    side (24 + 12 = 36 inputs), and the answers as a multi-hot code over the 24
    people (two units on for the questions with two answers).
    """

    people: tuple[str, ...]
    relationships: tuple[str, ...]
    facts: tuple[Fact, ...]
    couples: tuple[tuple[str, str, tuple[str, ...]], ...]

    def triples(self) -> list[tuple[str, str, str]]:
        """Every (person, relationship, answer) triple: 112 in all, since the 4 uncle and 4
        aunt questions have two answers each."""
        return [t for fact in self.facts for t in fact.triples()]

    def tree_of(self, person: str) -> str:
        """"english" or "italian"."""
        self._index(person)
        return "english" if person in ENGLISH else "italian"

    def counterpart(self, person: str) -> str:
        """The person in the same place in the other tree (Christopher <-> Roberto)."""
        i = self._index(person)
        return self.people[(i + 12) % 24]

    def encode(self, facts: Sequence[Fact] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Inputs ``(n, 36)`` (person one-hot, then relationship one-hot) and targets ``(n, 24)``.

        ``facts`` defaults to all 104. The target row has a 1 for every answer.
        """
        chosen = self.facts if facts is None else tuple(facts)
        X = np.zeros((len(chosen), len(self.people) + len(self.relationships)))
        T = np.zeros((len(chosen), len(self.people)))
        for row, fact in enumerate(chosen):
            if not isinstance(fact, Fact):
                raise TypeError(f"encode: item {row} is a {type(fact).__name__}, expected a Fact")
            X[row, self._index(fact.person)] = 1.0
            X[row, len(self.people) + _position("relationship", fact.relationship,
                                                self.relationships)] = 1.0
            for answer in fact.answers:
                T[row, self._index(answer)] = 1.0
        return X, T

    def split(self, n_test: int = 4, seed: int = 0) -> tuple[list[Fact], list[Fact]]:
        """``(train, test)``: ``n_test`` facts drawn at random (by ``seed``), the rest to train.

        The paper trained on 100 of the 104 facts and tested on the other 4.
        """
        if not is_integer(n_test):
            raise TypeError(f"split: n_test must be an int, got {type(n_test).__name__}")
        if not 0 <= n_test < len(self.facts):
            raise ValueError(f"split: n_test must be between 0 and {len(self.facts) - 1}, "
                             f"got {n_test}")
        held = set(generator(seed).choice(len(self.facts), int(n_test),
                                          replace=False).tolist())
        train = [f for i, f in enumerate(self.facts) if i not in held]
        test = [f for i, f in enumerate(self.facts) if i in held]
        return train, test

    def _index(self, person: str) -> int:
        return _position("person", person, self.people)


def _position(kind: str, name: str, names: tuple[str, ...]) -> int:
    """Where ``name`` stands in ``names``; ValueError naming the unknown ``kind``."""
    try:
        return names.index(name)
    except ValueError:
        raise ValueError(f"unknown {kind} {name!r}; expected one of {', '.join(names)}") from None


def family_trees() -> FamilyTrees:
    """The English and Italian family trees of the 1986 paper and their 104 facts.

    Facts are derived from the marriages and children in ``COUPLES``:
    father/mother are the parents, husband/wife the spouse, son/daughter the
    children, brother/sister the other children of the same parents,
    uncle/aunt the parents' siblings and those siblings' spouses, and
    nephew/niece the children of one's own and one's spouse's siblings.
    """
    kin = _Kinship(COUPLES)
    facts = []
    for relationship in RELATIONSHIPS:
        for person in PEOPLE:
            answers = kin.answers(person, relationship)
            if answers:
                facts.append(Fact(person, relationship, answers))
    return FamilyTrees(PEOPLE, RELATIONSHIPS, tuple(facts), COUPLES)


class _Kinship:
    """Who is related to whom, from a list of couples and their children."""

    def __init__(self, couples: Sequence[tuple[str, str, tuple[str, ...]]]) -> None:
        self.spouse: dict[str, str] = {}
        self.parents: dict[str, tuple[str, str]] = {}
        self.children: dict[str, tuple[str, ...]] = {}
        for husband, wife, kids in couples:
            self.spouse[husband], self.spouse[wife] = wife, husband
            self.children[husband] = self.children[wife] = kids
            for kid in kids:
                self.parents[kid] = (husband, wife)

    def siblings(self, person: str) -> list[str]:
        if person not in self.parents:
            return []
        return [k for k in self.children[self.parents[person][0]] if k != person]

    def answers(self, person: str, relationship: str) -> tuple[str, ...]:
        parents = self.parents.get(person, ())
        spouse = self.spouse.get(person)
        candidates: list[str]
        if relationship in ("father", "mother"):
            candidates = list(parents)
        elif relationship in ("husband", "wife"):
            candidates = [spouse] if spouse else []
        elif relationship in ("son", "daughter"):
            candidates = list(self.children.get(person, ()))
        elif relationship in ("brother", "sister"):
            candidates = self.siblings(person)
        elif relationship in ("uncle", "aunt"):
            aunts_and_uncles = [s for p in parents for s in self.siblings(p)]
            candidates = aunts_and_uncles + [self.spouse[s] for s in aunts_and_uncles
                                             if s in self.spouse]
        else:  # nephew, niece: children of one's own and one's spouse's siblings
            siblings = self.siblings(person) + (self.siblings(spouse) if spouse else [])
            candidates = list(itertools.chain.from_iterable(
                self.children.get(s, ()) for s in siblings))
        female = relationship in ("mother", "wife", "daughter", "aunt", "sister", "niece")
        chosen = {c for c in candidates if (c in _FEMALE) == female}
        return tuple(p for p in PEOPLE if p in chosen)
