import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent.parent / "data"))
from induction_model import repeated_tokens  # noqa: E402
from induction_model.testing import in_kernel, random_model, trained_pair  # noqa: E402

# Another size (3 layers of 3 heads, 20 token ids), so hard-coded shapes show.
SMALL = dict(n_layers=3, n_heads=3, d_model=24, d_head=8, n_ctx=23, d_vocab=20)


def patterns(model, tokens):
    # (batch, layer, head, query_pos, key_pos)
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens)
    return torch.stack([cache["attn", layer] for layer in range(model.cfg.n_layers)], dim=1)


def stripe(pattern, offset, dests):
    # the mean over the batch and the destinations p of the attention from p to p - offset
    dests = torch.as_tensor(list(dests))
    return pattern[..., dests, dests - offset].mean(dim=(0, -1))


def close(a, b):
    return a.shape == b.shape and torch.allclose(a.double(), b.double(), rtol=1e-4, atol=1e-5)


def check_scores(got, model, prev):
    assert isinstance(got, torch.Tensor), (
        f"{'previous_token_scores' if prev else 'induction_scores'} returned {type(got).__name__}, expected a tensor"
    )
    shape = (model.cfg.n_layers, model.cfg.n_heads)
    if tuple(got.shape) == (2, 4) and shape != (2, 4):
        raise AssertionError(
            f"{'previous_token_scores' if prev else 'induction_scores'} gave shape (2, 4) for a model with "
            f"{shape[0]} layers of {shape[1]} heads: use the model passed as an argument (and model.cfg.n_layers), "
            "not the global model of your notebook"
        )
    assert tuple(got.shape) == shape, (
        f"{'previous_token_scores' if prev else 'induction_scores'} gave shape {tuple(got.shape)}, expected "
        f"(n_layers, n_heads) = {shape}: average over the batch and the positions, and keep one score per layer "
        "and head"
    )
    return got


def check_previous(student, model, remote, tokens):
    got = check_scores(student.previous_token_scores(remote, tokens), model, prev=True)
    pattern = patterns(model, tokens)
    pos = tokens.shape[1]
    if close(got, stripe(pattern, 1, range(1, pos))):
        return
    if close(got, stripe(pattern, 0, range(pos))):
        raise AssertionError(
            "you scored attention to the current position; a previous-token head attends from p to p - 1"
        )
    if close(got, torch.zeros_like(got)):
        raise AssertionError(
            "all your scores are 0: the last two axes of the pattern are (query, key), so the previous-token "
            "stripe is pattern[..., p, p - 1] (diagonal offset -1), and the future is masked"
        )
    if close(got, stripe(pattern, 1, range(1, pos)) * (pos - 1) / pos):
        raise AssertionError(
            "you divided by pos; position 0 (BOS) has no previous token: average over the pos - 1 "
            "positions 1 .. pos - 1"
        )
    if close(got, stripe(pattern, 1, range(2, pos))):
        raise AssertionError(
            "you left out position 1: its previous token is BOS at 0, and that counts; average over p = 1 .. pos - 1"
        )
    raise AssertionError(
        "previous_token_scores is wrong: average pattern[b, head, p, p - 1] over the batch and p = 1 .. pos - 1"
    )


def check_induction(student, model, remote, tokens):
    got = check_scores(student.induction_scores(remote, tokens), model, prev=False)
    n = (tokens.shape[1] - 1) // 2
    pattern = patterns(model, tokens)
    second = range(n + 1, 2 * n + 1)
    if close(got, stripe(pattern, n - 1, second)):
        return
    if close(got, stripe(pattern, n, second)):
        raise AssertionError(
            "you scored attention to the previous occurrence of the current token (p - n); an induction head "
            "attends to the token after it, p - n + 1"
        )
    if close(got, stripe(pattern, n - 2, second)):
        raise AssertionError("off by one: the token after the previous occurrence is at p - n + 1, not p - n + 2")
    if close(got, stripe(pattern, n - 1, range(n, 2 * n))):
        raise AssertionError(
            "your destinations are one position early: with BOS at position 0 the second copy is at "
            "positions n + 1 .. 2n"
        )
    if close(got, stripe(pattern, n - 1, range(n - 1, 2 * n + 1))):
        raise AssertionError(
            "you averaged the whole diagonal, which also has two destinations in the first copy; "
            "average over the n positions of the second copy only"
        )
    if close(got, torch.zeros_like(got)):
        raise AssertionError(
            "all your scores are 0: the last two axes of the pattern are (query, key), and keys after the "
            "query are masked; read pattern[..., p, p - n + 1]"
        )
    raise AssertionError(
        "induction_scores is wrong: average pattern[b, head, p, p - n + 1] over the batch and p = n + 1 .. 2n"
    )


@pytest.mark.points(2)
def test_previous_token_scores_on_the_trained_model(student):
    model, remote = trained_pair(student)
    check_previous(student, model, remote, repeated_tokens(5, 16, seed=11))
    check_previous(student, model, remote, torch.randint(1, 64, (3, 20), generator=torch.Generator().manual_seed(3)))


@pytest.mark.points(2)
def test_previous_token_scores_other_sizes_and_batch_of_one(student):
    model = random_model(12, **SMALL)
    remote = in_kernel(student, model)
    check_previous(student, model, remote, repeated_tokens(1, 7, 20, seed=12))
    check_previous(student, model, remote, repeated_tokens(4, 5, 20, seed=13))


@pytest.mark.points(3)
def test_induction_scores_on_the_trained_model(student):
    model, remote = trained_pair(student)
    check_induction(student, model, remote, repeated_tokens(6, 16, seed=14))


@pytest.mark.points(3)
def test_induction_scores_other_sizes_odd_n_and_batch_of_one(student):
    model = random_model(15, **SMALL)
    remote = in_kernel(student, model)
    check_induction(student, model, remote, repeated_tokens(1, 7, 20, seed=15))
    check_induction(student, model, remote, repeated_tokens(3, 11, 20, seed=16))
    trained, trained_remote = trained_pair(student)
    check_induction(student, trained, trained_remote, repeated_tokens(2, 9, seed=17))


def expected_heads(scores, threshold):
    pairs = [(layer, head) for layer in range(scores.shape[0]) for head in range(scores.shape[1])]
    return sorted((lh for lh in pairs if scores[lh] > threshold), key=lambda lh: -scores[lh].item())


def as_pairs(got):
    assert isinstance(got, (list, tuple)), f"heads_above returned {type(got).__name__}, expected a list"
    pairs = []
    for item in got:
        assert isinstance(item, (list, tuple)) and len(item) == 2, (
            "heads_above should return (layer, head) pairs; one item is not a pair"
        )
        assert all(isinstance(x, int) or (isinstance(x, torch.Tensor) and x.numel() == 1) for x in item), (
            "each (layer, head) pair should hold two integers"
        )
        pairs.append(tuple(int(x) for x in item))
    return pairs


@pytest.mark.points(2)
def test_heads_above_filters_sorts_and_keeps_layer_head_order(student):
    rng = torch.Generator().manual_seed(18)
    scores = torch.rand(3, 5, generator=rng)  # 3 layers of 5 heads: (layer, head) != (head, layer)
    for threshold in (0.5, float(scores.flatten().sort().values[9])):
        got = as_pairs(student.heads_above(scores, threshold))
        want = expected_heads(scores, threshold)
        if sorted(got) == sorted((h, layer) for layer, h in want) and sorted(got) != sorted(want):
            raise AssertionError("your pairs are (head, layer); return (layer, head)")
        if len(got) == len(want) + 1 and set(want) < set(got):
            raise AssertionError("a head whose score equals the threshold is not above it: use >, not >=")
        assert sorted(got) == sorted(want), (
            f"with a (3, 5) score tensor (3 layers of 5 heads) and threshold {threshold:.3f} you returned "
            f"{len(got)} heads, expected {len(want)}, or other heads: every (layer, head) whose score is above the "
            "threshold"
        )
        assert got == want, "the heads are right but not in order: highest score first"
    empty = as_pairs(student.heads_above(scores, 2.0))
    assert empty == [], "with no score above the threshold, return an empty list"
