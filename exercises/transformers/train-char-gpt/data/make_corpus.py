"""Make corpus.txt, the training text of this exercise: python make_corpus.py [seed] [n_chars].

Short sentences from a small hand-written grammar (lowercase letters, spaces, commas, periods and
newlines), so a tiny model can learn a lot of its structure in seconds. The shipped corpus.txt
was made with seed 0 and 40000 characters; other seeds give fresh text from the same grammar.
"""

import random
import sys

NAMES = ["anna", "ben", "carla", "dev", "emil", "fatima", "greta", "hugo", "ines", "jonas"]
ANIMALS = ["cat", "dog", "fox", "owl", "horse", "goat", "duck", "mouse"]
THINGS = ["ball", "book", "lamp", "cup", "kite", "hat", "box", "key", "map", "drum"]
PLACES = ["the garden", "the kitchen", "the river", "the market", "the school", "the forest", "the bridge"]
COLOURS = ["red", "blue", "green", "yellow", "black", "white"]
SIZES = ["small", "big", "old", "new"]
NUMBERS = ["two", "three", "four", "five", "six"]
VERBS_SEE = ["sees", "finds", "likes", "wants", "holds"]
VERBS_GO = ["walks to", "runs to", "looks at", "sleeps near", "waits by"]
TIMES = ["in the morning", "at night", "after lunch", "every day", "on sunday"]


def noun_phrase(rng):
    roll = rng.random()
    if roll < 0.3:
        return f"the {rng.choice(SIZES)} {rng.choice(COLOURS)} {rng.choice(THINGS)}"
    if roll < 0.6:
        return f"a {rng.choice(COLOURS)} {rng.choice(THINGS)}"
    if roll < 0.8:
        return f"{rng.choice(NUMBERS)} {rng.choice(THINGS)}s"
    return f"the {rng.choice(THINGS)}"


def subject(rng):
    return rng.choice(NAMES) if rng.random() < 0.6 else f"the {rng.choice(ANIMALS)}"


def sentence(rng):
    roll = rng.random()
    if roll < 0.35:
        s = f"{subject(rng)} {rng.choice(VERBS_SEE)} {noun_phrase(rng)}"
    elif roll < 0.6:
        s = f"{subject(rng)} {rng.choice(VERBS_GO)} {rng.choice(PLACES)}"
    elif roll < 0.8:
        giver, taker = rng.sample(NAMES, 2)
        s = f"{giver} gives {taker} {noun_phrase(rng)}"
    else:
        s = f"{subject(rng)} is in {rng.choice(PLACES)} with {noun_phrase(rng)}"
    if rng.random() < 0.3:
        s += f" {rng.choice(TIMES)}"
    if rng.random() < 0.2:
        s += f", and {subject(rng)} {rng.choice(VERBS_SEE)} {noun_phrase(rng)}"
    return s + "."


def make_text(seed: int, n_chars: int) -> str:
    rng = random.Random(seed)
    lines = []
    total = 0
    while total < n_chars:
        line = " ".join(sentence(rng) for _ in range(rng.randint(1, 3)))
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines)[:n_chars]


if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    n_chars = int(sys.argv[2]) if len(sys.argv) > 2 else 40000
    with open("corpus.txt", "w", encoding="ascii") as f:
        f.write(make_text(seed, n_chars))
