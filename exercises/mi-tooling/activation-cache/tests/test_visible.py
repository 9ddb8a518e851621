"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


@pytest.mark.points(2)
def test_pattern_residual_and_heads_on_the_trained_model(student):
    model = student.load_model()
    tokens = student.repeated_tokens(4, 8, seed=1)

    pattern = student.attention_pattern(model, tokens, 0, 1)
    assert isinstance(pattern, torch.Tensor), f"attention_pattern returned {type(pattern).__name__}, expected a tensor"
    assert pattern.shape == (4, 17, 17), f"attention_pattern gave shape {tuple(pattern.shape)}, expected (4, 17, 17)"
    torch.testing.assert_close(pattern.sum(-1), torch.ones(4, 17), msg="each row of a pattern sums to 1")
    assert (pattern.triu(diagonal=1) == 0).all(), "a pattern never attends to later positions"
    stripe = pattern.diagonal(offset=-1, dim1=-2, dim2=-1).mean()
    assert stripe > 0.4, (
        f"layer 0 head 1 is the previous-token head, but it attends to p - 1 only {stripe:.2f} on average"
    )

    stack = student.residual_stack(model, tokens)
    assert isinstance(stack, torch.Tensor), f"residual_stack returned {type(stack).__name__}, expected a tensor"
    assert stack.shape == (3, 4, 17, 64), f"residual_stack gave shape {tuple(stack.shape)}, expected (3, 4, 17, 64)"
    logits = model(tokens)  # the model's own forward pass, in your notebook
    torch.testing.assert_close(
        stack[-1] @ model.W_U + model.b_U,
        logits,
        rtol=1e-4,
        atol=1e-4,
        msg="the last entry of residual_stack, unembedded, should give the logits",
    )

    heads = student.head_outputs(model, tokens, 1)
    assert isinstance(heads, torch.Tensor), f"head_outputs returned {type(heads).__name__}, expected a tensor"
    assert heads.shape == (4, 17, 4, 64), f"head_outputs gave shape {tuple(heads.shape)}, expected (4, 17, 4, 64)"
    torch.testing.assert_close(
        stack[0] + heads.sum(dim=2) + model.b_O[1] + student.head_outputs(model, tokens, 0).sum(dim=2) + model.b_O[0],
        stack[-1],
        rtol=1e-4,
        atol=1e-4,
        msg="the embeddings plus every head's output plus the biases b_O should give the final residual stream",
    )


@pytest.mark.points(1)
def test_cache_kinds_example(student):
    model = student.load_model()
    cache = student.cache_kinds(model, student.repeated_tokens(2, 5), ["pattern", "embed"])
    assert isinstance(cache, dict), f"cache_kinds returned {type(cache).__name__}, expected a plain dict"
    assert sorted(cache) == ["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern", "hook_embed"], (
        f"cache_kinds(['pattern', 'embed']) kept {sorted(cache)}"
    )
    assert cache["hook_embed"].shape == (2, 11, 64), f"hook_embed has shape {tuple(cache['hook_embed'].shape)}"
