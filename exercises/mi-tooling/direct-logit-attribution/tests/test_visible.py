"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


@pytest.mark.points(2)
def test_components_add_up_to_the_next_token_logit(student):
    model = student.load_model()
    tokens = student.repeated_tokens(1, 16, seed=0)
    attr = student.logit_attribution(model, tokens)
    assert isinstance(attr, torch.Tensor), f"logit_attribution returned {type(attr).__name__}, expected a tensor"
    assert attr.shape == (9, 1, 32), (
        f"logit_attribution gave shape {tuple(attr.shape)}, expected "
        "(n_layers * n_heads + 1, batch, pos - 1) = (9, 1, 32)"
    )
    logits = model(tokens)  # the model's own forward pass, in your notebook
    next_token_logit = logits[:, :-1].gather(-1, tokens[:, 1:, None])[..., 0]
    torch.testing.assert_close(
        attr.sum(0) + model.b_U[tokens[:, 1:]],
        next_token_logit,
        rtol=1e-4,
        atol=1e-4,
        msg="the components summed, plus b_U of the next token, should give the logit of the next token",
    )

    wrong = tokens[:, :-1]  # the alternative "repeat the current token"
    diff = student.logit_diff_attribution(model, tokens, wrong)
    assert isinstance(diff, torch.Tensor), f"logit_diff_attribution returned {type(diff).__name__}, expected a tensor"
    assert diff.shape == (9, 1, 32), f"logit_diff_attribution gave shape {tuple(diff.shape)}, expected (9, 1, 32)"
    wrong_logit = logits[:, :-1].gather(-1, wrong[..., None])[..., 0]
    torch.testing.assert_close(
        diff.sum(0) + model.b_U[tokens[:, 1:]] - model.b_U[wrong],
        next_token_logit - wrong_logit,
        rtol=1e-4,
        atol=1e-4,
        msg="the components summed, plus the difference of b_U, should give the logit difference",
    )


@pytest.mark.points(1)
def test_induction_heads_predict_the_second_copy(student):
    # Facts of the trained weights: the four heads of layer 1 are induction heads and push up the
    # logit of the next token in the second copy; layer 0 and the remainder have almost no direct effect there.
    model = student.load_model()
    attr = student.logit_attribution(model, student.repeated_tokens(1, 16, seed=1))
    second_copy = attr[:, 0, 17:].mean(-1)  # positions 17 .. 31 predict tokens 18 .. 32
    assert (second_copy[4:8] > 0.5).all(), (
        f"mean direct effect of layer 1's heads (L1H0 .. L1H3) {second_copy[4:8].tolist()}, expected each > 0.5"
    )
    assert (second_copy[:4].abs() < 0.3).all(), (
        f"mean direct effect of layer 0's heads {second_copy[:4].tolist()}, expected each near 0"
    )
