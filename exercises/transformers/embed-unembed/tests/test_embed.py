# Hidden tests. Messages shown to learners live in assert/raise statements only: the judge blanks
# every other string literal of this file that shows up in the output.
import pytest
import torch


def rand(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def tokens_for(batch, seq, d_vocab, seed):
    return torch.randint(0, d_vocab, (batch, seq), generator=torch.Generator().manual_seed(seed))


def expect_tensor(got, shape):
    assert isinstance(got, torch.Tensor), f"returned {type(got).__name__}, expected a tensor"
    assert tuple(got.shape) == tuple(shape), f"returned shape {tuple(got.shape)}, expected {tuple(shape)}"


def mismatch(got, expected, rtol=1e-5, atol=1e-5):
    """torch's description of how two tensors differ, or "" when they are close."""
    try:
        torch.testing.assert_close(got, expected, rtol=rtol, atol=atol, check_dtype=False)
    except AssertionError as exc:
        return str(exc)
    return ""


@pytest.mark.points(3)
def test_embed_random_batch(student):
    d_vocab, n_ctx, d_model = 11, 8, 6
    W_E, W_pos = rand(d_vocab, d_model, seed=1), rand(n_ctx, d_model, seed=2)
    tokens = tokens_for(3, 5, d_vocab, seed=3)
    got = student.embed(tokens, W_E, W_pos)
    expect_tensor(got, (3, 5, d_model))
    assert not torch.allclose(got, W_E[tokens] + W_pos[1:6]), (
        "embed uses positions 1..seq; the first token of a sequence is at position 0"
    )
    assert not torch.allclose(got, W_E[tokens] + W_pos[tokens % n_ctx]), (
        "embed indexes W_pos by token id; index it by position (0, 1, ..., seq-1)"
    )
    assert not torch.allclose(got, W_E[tokens]), "embed leaves out the position embeddings"
    m = mismatch(got, W_E[tokens] + W_pos[:5])
    assert not m, f"embed of a (3, 5) batch is wrong: {m}"


@pytest.mark.points(2)
def test_embed_positions_alone(student):
    # With all token embeddings zero, what is left is exactly the position embeddings 0..seq-1.
    W_E, W_pos = torch.zeros(7, 4), rand(6, 4, seed=4)
    tokens = tokens_for(2, 4, 7, seed=5)
    got = student.embed(tokens, W_E, W_pos)
    expect_tensor(got, (2, 4, 4))
    m = mismatch(got, W_pos[:4].expand(2, 4, 4))
    assert not m, f"with W_E = 0, embed must return W_pos[0..seq-1] for every sequence of the batch: {m}"


@pytest.mark.points(2)
def test_embed_batch_one_and_lengths(student):
    W_E, W_pos = rand(9, 5, seed=6), rand(7, 5, seed=7)
    for seq in (1, 3, 7):
        tokens = tokens_for(1, seq, 9, seed=10 + seq)
        got = student.embed(tokens, W_E, W_pos)
        expect_tensor(got, (1, seq, 5))
        m = mismatch(got, W_E[tokens] + W_pos[:seq])
        assert not m, f"embed of a batch of 1 with seq = {seq} (n_ctx = 7) is wrong: {m}"


@pytest.mark.points(1)
def test_embed_longer_than_context_raises(student):
    W_E, W_pos = rand(9, 5, seed=8), rand(4, 5, seed=9)
    try:
        student.embed(tokens_for(2, 6, 9, seed=20), W_E, W_pos)
        etype = None
    except Exception as exc:  # the learner's error arrives as the grader's StudentError
        etype = getattr(exc, "etype", type(exc).__name__)
    assert etype == ValueError.__name__, (
        f"embed of a sequence of 6 tokens with n_ctx = 4 should raise ValueError, it {'raised ' + etype if etype else 'returned normally'}"
    )


@pytest.mark.points(2)
def test_unembed_random_with_bias(student):
    resid, W_U, b_U = rand(2, 3, 6, seed=30), rand(6, 10, seed=31), rand(10, seed=32)
    got = student.unembed(resid, W_U, b_U)
    expect_tensor(got, (2, 3, 10))
    assert not torch.allclose(got, resid @ W_U), "unembed leaves out the bias b_U"
    m = mismatch(got, resid @ W_U + b_U)
    assert not m, f"unembed is wrong: {m}"


@pytest.mark.points(1)
def test_unembed_square_not_transposed(student):
    resid, W_U, b_U = rand(1, 4, 5, seed=33), rand(5, 5, seed=34), rand(5, seed=35)
    got = student.unembed(resid, W_U, b_U)
    expect_tensor(got, (1, 4, 5))
    assert not torch.allclose(got, resid @ W_U.T + b_U), (
        "unembed multiplies by W_U transposed: W_U is (d_model, d_vocab), so logits = resid @ W_U + b_U"
    )
    m = mismatch(got, resid @ W_U + b_U)
    assert not m, f"unembed with d_model == d_vocab is wrong: {m}"
