"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_repeated_tokens_layout(student):
    tokens = student.repeated_tokens(3, 5)
    assert isinstance(tokens, torch.Tensor), f"repeated_tokens returned {type(tokens).__name__}, expected a tensor"
    assert tokens.shape == (3, 11), f"shape {tuple(tokens.shape)}, expected (batch, 1 + 2 * half_len) = (3, 11)"
    assert not tokens.is_floating_point(), f"dtype {tokens.dtype}: token ids are integers (torch.long)"
    assert (tokens[:, 0] == 0).all(), "every row starts with BOS, token 0"
    assert torch.equal(tokens[:, 1:6], tokens[:, 6:]), "the second half must repeat the first"
    assert ((tokens[:, 1:] >= 1) & (tokens[:, 1:] < 64)).all(), "random tokens come from 1..d_vocab-1"


@pytest.mark.points(2)
def test_the_trained_model_has_the_expected_heads(student):
    # Facts of the shipped weights (train.py, seed 0): head 2 of layer 0 is the clearest
    # previous-token head, and all four heads of layer 1 are induction heads.
    model = student.load_model("weights.safetensors")
    tokens = student.repeated_tokens(8, 16, 64, 1)
    prev = student.previous_token_scores(model, tokens)
    assert isinstance(prev, torch.Tensor), f"previous_token_scores returned {type(prev).__name__}, expected a tensor"
    assert prev.shape == (2, 4), (
        f"previous_token_scores shape {tuple(prev.shape)}, expected (n_layers, n_heads) = (2, 4)"
    )
    assert prev.argmax().item() == 2, f"the top previous-token head should be layer 0 head 2, scores {prev.tolist()}"
    assert prev[0, 2] > 0.5, f"layer 0 head 2 attends to the previous token about 2/3 of the time, got {prev[0, 2]:.3f}"

    ind = student.induction_scores(model, tokens)
    assert isinstance(ind, torch.Tensor), f"induction_scores returned {type(ind).__name__}, expected a tensor"
    assert ind.shape == (2, 4), f"induction_scores shape {tuple(ind.shape)}, expected (2, 4)"
    assert (ind[1] > 0.6).all() and (ind[0] < 0.1).all(), (
        f"expected layer 1 above 0.6 and layer 0 below 0.1, got {ind.tolist()}"
    )

    found = student.find_induction_heads(model, tokens, 0.4)
    assert sorted(tuple(h) for h in found) == [(1, 0), (1, 1), (1, 2), (1, 3)], (
        f"found {found}, expected the four heads of layer 1"
    )
