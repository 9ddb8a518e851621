"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


def type_name(got):
    # A handle on an object that stays in the notebook (a FactoredMatrix) tells its class as remote_type.
    return getattr(got, "remote_type", None) or type(got).__name__


def tensor(got, name):
    assert isinstance(got, torch.Tensor), (
        f"{name} returned {type_name(got)}, expected a tensor (a FactoredMatrix stays in your notebook: "
        "return its .AB)"
    )
    return got


def number(got, name):
    if isinstance(got, torch.Tensor) and got.numel() == 1 and not got.is_complex():
        return got.item()
    assert isinstance(got, (float, int)) and not isinstance(got, bool), (
        f"{name} returned {type_name(got)}, expected a float (.item() of a one-element tensor)"
    )
    return float(got)


@pytest.mark.points(1)
def test_comp_score_example(student):
    W_A = torch.tensor([[1.0, 0.0], [0.0, 0.0]])  # keeps the first direction
    W_B = torch.tensor([[0.0, 0.0], [0.0, 1.0]])  # reads only the second one
    got = number(student.comp_score(W_A, W_B), "comp_score")
    assert got == pytest.approx(0.0, abs=1e-6), f"comp_score of matrices that do not compose: {got}, expected 0"
    got = number(student.comp_score(W_A, W_A), "comp_score")
    assert got == pytest.approx(1.0), f"comp_score of a projection with itself: {got}, expected 1"
    got = number(student.comp_score(torch.eye(2), torch.eye(2)), "comp_score")
    assert got == pytest.approx(0.5**0.5), f"comp_score(I, I) in 2 dimensions: {got}, expected sqrt(2)/2 = 0.7071"


@pytest.mark.points(1)
def test_induction_heads_copy(student):
    # Measured on the shipped model: the heads of layer 1 have copying scores above 0.99, and each
    # raises the logit of the token it attends to more than any other for about 3 tokens in 4.
    model = student.load_model()
    for head in range(4):
        circuit = tensor(student.ov_circuit(model, 1, head), "ov_circuit")
        assert circuit.shape == (64, 64), f"ov_circuit gave shape {tuple(circuit.shape)}, expected (d_vocab, d_vocab)"
        top_is_self = (circuit.argmax(dim=-1) == torch.arange(64)).float().mean().item()
        assert top_is_self > 0.6, f"head 1.{head}: the attended token is its own top logit for {top_is_self:.0%} of tokens"
        score = number(student.copying_score(model, 1, head), "copying_score")
        assert score > 0.99, f"copying score of head 1.{head} is {score:.3f}, expected above 0.99"


@pytest.mark.points(1)
def test_the_previous_token_head_by_position(student):
    # Measured on the shipped model: on positions alone, head 0.1 prefers the previous position
    # for every query position from 2 to 20.
    model = student.load_model()
    scores = tensor(student.pos_qk_circuit(model, 0, 1), "pos_qk_circuit")
    assert scores.shape == (33, 33), f"pos_qk_circuit gave shape {tuple(scores.shape)}, expected (n_ctx, n_ctx)"
    future = torch.triu(torch.ones(33, 33, dtype=torch.bool), diagonal=1)
    preferred = scores.masked_fill(future, float("-inf")).argmax(dim=-1)
    assert preferred[2:21].tolist() == list(range(1, 20)), (
        f"preferred key positions of queries 2..20: {preferred[2:21].tolist()}, expected each query's previous position"
    )


@pytest.mark.points(2)
def test_k_composition_with_the_previous_token_head_stands_out(student):
    # Measured on the shipped model: every head of layer 1 K-composes with head 0.1 at about 0.25
    # (random matrices of these shapes give about 0.12); every other score is below 0.18.
    model = student.load_model()
    scores = {kind: tensor(student.composition_scores(model, kind), "composition_scores") for kind in "qkv"}
    for kind, s in scores.items():
        assert s.shape == (4, 4), f"composition_scores(model, {kind!r}) has shape {tuple(s.shape)}, expected (4, 4)"
    k = scores["k"]
    assert (k[1] > 0.22).all(), f"K-composition of head 0.1 into layer 1: {k[1].tolist()}, expected each above 0.22"
    others = torch.cat([k[[0, 2, 3]].flatten(), scores["q"].flatten(), scores["v"].flatten()])
    assert (others < 0.18).all() and (others > 0).all(), (
        f"every other composition score should be between 0 and 0.18: {others.max():.3f} is the largest"
    )
