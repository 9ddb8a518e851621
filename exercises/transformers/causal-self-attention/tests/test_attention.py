# Hidden tests. Messages shown to learners live in assert/raise statements only: the judge blanks
# every other string literal of this file that shows up in the output.
import math

import pytest
import torch


def random_weights(n_heads, d_model, d_head, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)

    def r(*shape, scale):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)

    return [
        r(n_heads, d_model, d_head, scale=1.5 / d_model**0.5),
        r(n_heads, d_head, scale=0.3),
        r(n_heads, d_model, d_head, scale=1.5 / d_model**0.5),
        r(n_heads, d_head, scale=0.3),
        r(n_heads, d_model, d_head, scale=1 / d_model**0.5),
        r(n_heads, d_head, scale=0.3),
        r(n_heads, d_head, d_model, scale=1 / d_head**0.5),
        r(d_model, scale=0.5),
    ]


def reference(x, W_Q, b_Q, W_K, b_K, W_V, b_V, W_O, b_O, *, mask=-math.inf, scale=None, softmax_dim=-1,
              diagonal=1, bias_per_head=False):
    """Attention computed head by head; the keyword arguments reproduce typical mistakes."""
    n_heads, _, d_head = W_Q.shape
    seq = x.shape[1]
    scale = math.sqrt(d_head) if scale is None else scale
    future = torch.ones(seq, seq, dtype=torch.bool).triu(diagonal)
    out = torch.zeros_like(x) + b_O * (n_heads if bias_per_head else 1)
    for h in range(n_heads):
        q, k, v = x @ W_Q[h] + b_Q[h], x @ W_K[h] + b_K[h], x @ W_V[h] + b_V[h]
        scores = q @ k.transpose(1, 2) / scale
        if mask is not None:
            scores = scores.masked_fill(future, mask)
        out = out + torch.softmax(scores, dim=softmax_dim) @ v @ W_O[h]
    return out


def check(student, x, weights):
    n_heads, d_model, d_head = weights[0].shape
    got = student.attention(x, *weights)
    assert isinstance(got, torch.Tensor), f"attention returned {type(got).__name__}, expected a tensor"
    assert tuple(got.shape) == tuple(x.shape), (
        f"attention on an input of shape {tuple(x.shape)} with {n_heads} heads of {d_head}: "
        f"output shape {tuple(got.shape)}, expected (batch, seq, d_model) = {tuple(x.shape)}"
    )
    assert not torch.isnan(got).any(), (
        f"attention on an input of shape {tuple(x.shape)} returned nan: does the mask also hide the diagonal "
        "(a query must see its own position), or is the softmax written by hand (exp of large scores overflows)?"
    )
    expected = reference(x, *weights)
    if not torch.allclose(got, expected, rtol=1e-4, atol=1e-5):
        diff = (got - expected).abs().max().item()

        def same(**options):
            return torch.allclose(got, reference(x, *weights, **options), rtol=1e-4, atol=1e-5)

        # Everything in the raise is shown to the learner; the hint names the mistake reproduced.
        raise AssertionError(
            f"attention on an input of shape {tuple(x.shape)} with {n_heads} heads of {d_head} is wrong "
            f"(largest difference {diff:.3g})"
            + (
                ": the future is masked with 0 instead of -inf (exp(0) = 1 still gives those keys weight)"
                if same(mask=0.0)
                else ": there is no causal mask"
                if same(mask=None)
                else ": the softmax runs over queries; it must run over keys (the last axis of the scores)"
                if same(softmax_dim=-2)
                else ": the scores are divided by d_head; divide by sqrt(d_head)"
                if same(scale=d_head)
                else ": the scores are divided by sqrt(d_model); divide by sqrt(d_head)"
                if same(scale=math.sqrt(d_model))
                else ": the scores are not scaled; divide by sqrt(d_head)"
                if same(scale=1.0)
                else ": b_O is added once per head; add it once, to the sum over heads"
                if same(bias_per_head=True)
                else ""
            )
        )
    return got


def inputs(batch, seq, d_model, seed, dtype=torch.float32):
    return torch.randn(batch, seq, d_model, generator=torch.Generator().manual_seed(seed), dtype=dtype)


@pytest.mark.points(4)
def test_matches_reference(student):
    check(student, inputs(2, 6, 8, seed=1), random_weights(2, 8, 4, seed=2))


@pytest.mark.points(2)
def test_many_heads_odd_sizes(student):
    check(student, inputs(3, 7, 10, seed=3), random_weights(5, 10, 3, seed=4))


@pytest.mark.points(2)
def test_heads_times_d_head_differs_from_d_model(student):
    check(student, inputs(2, 5, 6, seed=5), random_weights(3, 6, 4, seed=6))


@pytest.mark.points(2)
def test_batch_of_one_and_single_position(student):
    weights = random_weights(2, 8, 4, seed=7)
    got = check(student, inputs(1, 1, 8, seed=8), weights)
    # With one position, each head attends fully to it: the pattern is 1.
    x = inputs(1, 1, 8, seed=8)
    W_Q, b_Q, W_K, b_K, W_V, b_V, W_O, b_O = weights
    direct = sum((x @ W_V[h] + b_V[h]) @ W_O[h] for h in range(2)) + b_O
    assert torch.allclose(got, direct, atol=1e-5), "with a single position the output must be sum_h (x W_V + b_V) W_O + b_O"
    check(student, inputs(1, 9, 8, seed=9), weights)


@pytest.mark.points(2)
def test_large_scores_stay_finite(student):
    # Sharp attention: scores in the hundreds. Softmax must stay finite and masked keys must get 0.
    weights = random_weights(2, 8, 4, seed=10)
    weights[0], weights[2] = weights[0] * 6, weights[2] * 6
    got = check(student, inputs(2, 6, 8, seed=11), weights)
    assert torch.isfinite(got).all(), "attention returned inf or nan for large scores"
