"""The 1986 paper's data sets: the mirror-symmetry patterns and the two family trees.

The trees are checked against facts read off the published figure, against the
paper's count of 104, and for internal consistency: every relationship has its
converse, and the English and Italian trees are the same tree under renaming.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nn.data.rumelhart1986 import ENGLISH, ITALIAN, Fact, family_trees, symmetry

TREES = family_trees()
ANSWERS = {(f.person, f.relationship): set(f.answers) for f in TREES.facts}
TRIPLES = set(TREES.triples())

CONVERSES = {
    "husband": ("wife",), "wife": ("husband",),
    "father": ("son", "daughter"), "mother": ("son", "daughter"),
    "son": ("father", "mother"), "daughter": ("father", "mother"),
    "brother": ("brother", "sister"), "sister": ("brother", "sister"),
    "uncle": ("nephew", "niece"), "aunt": ("nephew", "niece"),
    "nephew": ("uncle", "aunt"), "niece": ("uncle", "aunt"),
}


# -- symmetry -------------------------------------------------------------------

@pytest.mark.parametrize("n_bits", [1, 2, 5, 6, 7])
def test_symmetry_lists_every_pattern_once_and_labels_it_by_reversal(n_bits):
    X, y = symmetry(n_bits)
    assert X.shape == (2**n_bits, n_bits) and X.dtype == float and y.dtype.kind == "i"
    strings = ["".join(str(int(b)) for b in row) for row in X]
    assert sorted(strings) == sorted(format(i, f"0{n_bits}b") for i in range(2**n_bits))
    for s, label in zip(strings, y):
        assert label == (1 if s == s[::-1] else 0)
    assert y.sum() == 2 ** ((n_bits + 1) // 2)


def test_symmetry_six_bits_has_the_papers_64_patterns_and_8_symmetric():
    X, y = symmetry()
    assert len(X) == 64 and y.sum() == 8
    assert y[int("101101", 2)] == 1 and y[int("100000", 2)] == 0


@pytest.mark.parametrize("bad, error", [(0, ValueError), (21, ValueError), (-3, ValueError),
                                         (2.0, TypeError), (True, TypeError), ("6", TypeError)])
def test_symmetry_rejects_bad_sizes(bad, error):
    with pytest.raises(error, match="n_bits"):
        symmetry(bad)


# -- family trees: against the figure ---------------------------------------------

def test_the_trees_have_24_people_12_relationships_and_104_facts():
    assert len(TREES.people) == 24 == len(set(TREES.people))
    assert TREES.relationships == ("father", "mother", "husband", "wife", "son", "daughter",
                                   "uncle", "aunt", "brother", "sister", "nephew", "niece")
    assert len(TREES.facts) == 104
    assert len(TRIPLES) == len(TREES.triples()) == 112


def test_facts_read_off_the_published_figure():
    expected = {
        ("Colin", "father"): {"James"}, ("Colin", "mother"): {"Victoria"},
        ("Penelope", "husband"): {"Christopher"}, ("Arthur", "wife"): {"Margaret"},
        ("Christine", "son"): {"James"}, ("Andrew", "daughter"): {"Jennifer"},
        ("Victoria", "brother"): {"Arthur"}, ("James", "sister"): {"Jennifer"},
        ("Charlotte", "uncle"): {"Arthur", "Charles"},
        ("Colin", "aunt"): {"Jennifer", "Margaret"},
        ("Charles", "nephew"): {"Colin"}, ("Margaret", "niece"): {"Charlotte"},
        ("Alfonso", "father"): {"Marco"}, ("Sophia", "aunt"): {"Gina", "Angela"},
        ("Tomaso", "wife"): {"Angela"}, ("Roberto", "son"): {"Emilio"},
        ("Francesca", "daughter"): {"Angela"}, ("Emilio", "niece"): {"Sophia"},
    }
    for question, answers in expected.items():
        assert ANSWERS[question] == answers, question
    for outsider in ("Margaret", "Charles", "Gina", "Tomaso"):
        assert (outsider, "father") not in ANSWERS and (outsider, "brother") not in ANSWERS
    for founder in ("Christopher", "Penelope", "Andrew", "Christine"):
        assert not any(person == founder and r in ("father", "mother", "uncle", "aunt")
                       for person, r in ANSWERS)


def test_counts_per_relationship_follow_from_the_tree_shape():
    # Per tree: 5 couples, 6 people with parents (2 + 2 + 2 children), 3 sibling pairs,
    # 2 grandchildren with 2 uncles and 2 aunts, and 4 adults with a nephew and a niece.
    per_tree = {"father": 6, "mother": 6, "husband": 5, "wife": 5, "son": 6, "daughter": 6,
                "uncle": 2, "aunt": 2, "brother": 3, "sister": 3, "nephew": 4, "niece": 4}
    counts = Counter(f.relationship for f in TREES.facts)
    assert counts == {r: 2 * n for r, n in per_tree.items()}
    two_answers = [f for f in TREES.facts if len(f.answers) == 2]
    assert {f.relationship for f in two_answers} == {"uncle", "aunt"} and len(two_answers) == 8


# -- family trees: internal consistency ---------------------------------------------

def test_every_triple_has_its_converse():
    for person, relationship, answer in TRIPLES:
        assert any((answer, r, person) in TRIPLES for r in CONVERSES[relationship]), \
            (person, relationship, answer)


def test_the_gendered_relationships_agree_on_each_persons_sex():
    male = {a for _, r, a in TRIPLES if r in ("father", "husband", "son", "uncle", "brother",
                                              "nephew")}
    female = {a for _, r, a in TRIPLES if r in ("mother", "wife", "daughter", "aunt", "sister",
                                                "niece")}
    assert not male & female
    assert male | female == set(TREES.people)


def test_husband_and_wife_pair_off_and_parents_are_married():
    for person, relationship, answer in TRIPLES:
        if relationship == "husband":
            assert (answer, "wife", person) in TRIPLES
    for child in TREES.people:
        if (child, "father") in ANSWERS:
            (father,) = ANSWERS[(child, "father")]
            (mother,) = ANSWERS[(child, "mother")]
            assert ANSWERS[(father, "wife")] == {mother}


def test_the_two_trees_are_isomorphic_under_the_counterpart_map():
    assert [TREES.counterpart(p) for p in ENGLISH] == list(ITALIAN)
    assert all(TREES.counterpart(TREES.counterpart(p)) == p for p in TREES.people)
    mapped = {(TREES.counterpart(p), r, TREES.counterpart(a)) for p, r, a in TRIPLES}
    assert mapped == TRIPLES
    assert all(TREES.tree_of(p) == TREES.tree_of(a) for p, _, a in TRIPLES)
    assert {TREES.tree_of(p) for p in ITALIAN} == {"italian"}


# -- encoding and splitting -----------------------------------------------------------

def test_encode_gives_one_hot_inputs_and_multi_hot_targets():
    X, T = TREES.encode()
    assert X.shape == (104, 36) and T.shape == (104, 24)
    assert np.all(X[:, :24].sum(axis=1) == 1) and np.all(X[:, 24:].sum(axis=1) == 1)
    assert T.sum() == 112
    for row, fact in enumerate(TREES.facts):
        assert TREES.people[int(np.argmax(X[row, :24]))] == fact.person
        assert TREES.relationships[int(np.argmax(X[row, 24:]))] == fact.relationship
        assert {TREES.people[i] for i in np.flatnonzero(T[row])} == set(fact.answers)


def test_encode_a_chosen_list_of_facts():
    fact = Fact("Sophia", "aunt", ("Gina", "Angela"))
    X, T = TREES.encode([fact])
    assert X[0, TREES.people.index("Sophia")] == 1 and X[0, 24 + 7] == 1
    assert T[0].sum() == 2 and T[0, TREES.people.index("Gina")] == 1


@pytest.mark.parametrize("fact, match", [
    (Fact("Bob", "father", ("James",)), "unknown person 'Bob'"),
    (Fact("Colin", "cousin", ("James",)), "unknown relationship 'cousin'"),
    (Fact("Colin", "father", ("Jim",)), "unknown person 'Jim'"),
])
def test_encode_names_what_it_does_not_know(fact, match):
    with pytest.raises(ValueError, match=match):
        TREES.encode([fact])


def test_encode_rejects_things_that_are_not_facts():
    with pytest.raises(TypeError, match="item 0 is a tuple, expected a Fact"):
        TREES.encode([("Colin", "father", "James")])


@given(st.integers(0, 103), st.integers(0, 2**32 - 1))
def test_split_partitions_the_facts(n_test, seed):
    train, test = TREES.split(n_test, seed=seed)
    assert len(test) == n_test and len(train) == 104 - n_test
    assert set(train) | set(test) == set(TREES.facts) and not set(train) & set(test)
    assert TREES.split(n_test, seed=seed) == (train, test)


@pytest.mark.parametrize("bad, error", [(104, ValueError), (-1, ValueError), (1.5, TypeError)])
def test_split_rejects_bad_sizes(bad, error):
    with pytest.raises(error, match="n_test"):
        TREES.split(bad)


def test_person_lookups_reject_unknown_names():
    with pytest.raises(ValueError, match="unknown person 'Zeus'"):
        TREES.counterpart("Zeus")
    with pytest.raises(ValueError, match="unknown person"):
        TREES.tree_of("zeus")
