import random
from collections import defaultdict

import pytest


def words_of(text):
    """Split by hand, character by character, to stay independent of any regular expression."""
    words, current = [], []
    for ch in text.lower():
        if ch.isalnum():
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def expected_counts(text):
    counts = defaultdict(int)
    for w in words_of(text):
        counts[w] += 1
    return dict(counts)


def expected_top(text, k):
    pairs = list(expected_counts(text).items())
    pairs.sort(key=lambda p: p[0])
    pairs.sort(key=lambda p: p[1], reverse=True)  # stable: ties keep alphabetical order
    return pairs[:k]


def kind(value):
    return getattr(value, "remote_type", type(value).__name__)


def check_counts(student, text):
    got = student.count_words(text)
    assert isinstance(got, dict), (
        f"count_words returned {kind(got)}, expected a plain dict (convert a Counter with dict(...))"
    )
    want = expected_counts(text)
    bad_values = {w: c for w, c in got.items() if type(c) is not int}
    assert not bad_values, f"counts must be ints, got {bad_values}"
    extra = sorted(set(got) - set(want))
    missing = sorted(set(want) - set(got))
    assert not extra and not missing, (
        f"count_words({text[:60]!r}...) has unexpected words {extra[:8]} and is missing {missing[:8]}"
    )
    wrong = {w: (got[w], want[w]) for w in want if got[w] != want[w]}
    assert not wrong, f"wrong counts (got, expected): {dict(list(wrong.items())[:8])}"
    return got


def check_top(student, text, k):
    got = student.top_words(text, k)
    assert isinstance(got, list), f"top_words returned {kind(got)}, expected a list"
    for item in got:
        assert isinstance(item, tuple) and len(item) == 2, (
            f"top_words must return (word, count) tuples, got an item {item!r} of type {kind(item)}"
        )
    want = expected_top(text, k)
    assert got == want, f"top_words(..., k={k}) gave {got[:10]}, expected {want[:10]}"
    return got


@pytest.mark.points(1)
def test_case_is_ignored(student):
    check_counts(student, "The the THE tHe")
    check_top(student, "Apple banana APPLE Banana apple", 2)


@pytest.mark.points(2)
def test_punctuation_and_whitespace_separate_words(student):
    # Punctuation glued to words, no space after a comma, runs of spaces, tabs and newlines.
    check_counts(student, "end. End,end!hello;world  and\tthen\n\nthe (end)")
    # Apostrophes and the underscore separate words too; digits are part of words.
    check_counts(student, "Don't stop_now: 2024 is 2024, room42 isn't")


@pytest.mark.points(2)
def test_ties_are_alphabetical_not_first_seen(student):
    # pear is seen before apple; a Counter's most_common would put it first.
    check_top(student, "pear apple pear apple fig", 3)
    check_top(student, "zeta. Zeta! yak, yak; xenon xenon alpha", 4)


@pytest.mark.points(2)
def test_cut_at_k_inside_a_tie(student):
    # Four words tied at 2: which two make it depends on ordering before slicing, and a
    # reversed sort on (count, word) picks the wrong end of the alphabet.
    check_top(student, "d c b a d c b a e", 2)
    check_top(student, "mango kiwi mango kiwi lime lime kiwi", 2)


@pytest.mark.points(1)
def test_small_k_large_k_and_no_words(student):
    text = "one two two three three three"
    check_top(student, text, 1)
    check_top(student, text, 10)
    check_top(student, text, 0)
    check_top(student, "  ... !!! ", 3)
    check_counts(student, "")
    check_counts(student, " -- ?! ")


@pytest.mark.points(2)
def test_random_texts(student):
    rng = random.Random(2024)
    vocab = [
        "".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, 4))) for _ in range(60)
    ] + ["Mixed", "MIXED", "x1", "2x"]
    seps = [" ", "  ", ", ", ". ", "\n", "\t", "!", "-", "_", "'", "; "]
    for trial in range(3):
        weights = [rng.choice([1, 1, 2, 3, 5, 8]) for _ in vocab]
        words = rng.choices(vocab, weights=weights, k=3000)
        text = "".join(w + rng.choice(seps) for w in words)
        check_counts(student, text)
        for k in (1, 7, 25, 500):
            check_top(student, text, k)
