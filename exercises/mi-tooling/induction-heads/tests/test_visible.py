"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_shapes_and_ranges(student):
    model = student.load_model()
    tokens = torch.cat([torch.zeros(2, 1, dtype=torch.long), torch.arange(1, 6).repeat(2, 2)], dim=1)  # BOS 1..5 1..5
    for name in ("previous_token_scores", "induction_scores"):
        scores = getattr(student, name)(model, tokens)
        assert isinstance(scores, torch.Tensor), f"{name} returned {type(scores).__name__}, expected a tensor"
        assert scores.shape == (2, 4), f"{name} gave shape {tuple(scores.shape)}, expected (n_layers, n_heads) = (2, 4)"
        assert ((scores >= 0) & (scores <= 1)).all(), f"{name}: averages of attention weights lie in [0, 1]"


@pytest.mark.points(2)
def test_the_trained_model_has_the_expected_heads(student):
    # Facts of the shipped weights (induction_model/train.py, seed 0): head 1 of layer 0 is the
    # previous-token head, and all four heads of layer 1 are induction heads.
    model = student.load_model()
    tokens = student.repeated_tokens(8, 16, seed=1)
    prev = student.previous_token_scores(model, tokens)
    assert isinstance(prev, torch.Tensor), f"previous_token_scores returned {type(prev).__name__}, expected a tensor"
    assert prev.argmax().item() == 1, f"the top previous-token head should be layer 0 head 1, scores {prev.tolist()}"
    assert 0.5 < prev[0, 1] < 0.7, (
        f"layer 0 head 1 attends to the previous token about 60% of the time, got {prev[0, 1]:.3f}"
    )
    assert (prev[1] < 0.1).all(), f"layer 1 has no previous-token head, got {prev[1].tolist()}"

    ind = student.induction_scores(model, tokens)
    assert isinstance(ind, torch.Tensor), f"induction_scores returned {type(ind).__name__}, expected a tensor"
    assert (ind[1] > 0.6).all() and (ind[0] < 0.1).all(), (
        f"expected layer 1 above 0.6 and layer 0 below 0.1, got {ind.tolist()}"
    )

    found = student.heads_above(ind, 0.4)
    assert sorted(tuple(h) for h in found) == [(1, 0), (1, 1), (1, 2), (1, 3)], (
        f"heads_above(induction, 0.4) found {found}, expected the four heads of layer 1"
    )
    assert [ind[tuple(h)].item() for h in found] == sorted(ind[1].tolist(), reverse=True), (
        f"heads_above should list the heads highest score first, got {found}"
    )
