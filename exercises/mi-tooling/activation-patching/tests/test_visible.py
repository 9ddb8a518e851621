"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


def induction_pair(seed, batch=16, length=16, cut=8):
    g = torch.Generator().manual_seed(seed)
    segment = torch.randint(1, 64, (batch, length), generator=g)
    clean = torch.cat([torch.zeros(batch, 1, dtype=torch.long), segment, segment[:, :cut]], dim=1)
    wrongs = (segment[:, cut] + torch.randint(1, 63, (batch,), generator=g) - 1) % 63 + 1
    corrupt = clean.clone()
    corrupt[:, 1 + cut] = wrongs
    return clean, corrupt, segment[:, cut], wrongs


def tensor(got, name):
    assert isinstance(got, torch.Tensor), f"{name} returned {type(got).__name__}, expected a tensor"
    return got


@pytest.mark.points(1)
def test_logit_diff_example(student):
    logits = torch.zeros(2, 3, 4)
    logits[0, -1] = torch.tensor([0.0, 5.0, 1.0, 2.0])
    logits[1, -1] = torch.tensor([3.0, 0.0, 0.5, 1.0])
    logits[:, 0] = 100.0  # earlier positions do not count
    got = tensor(student.logit_diff(logits, torch.tensor([1, 0]), torch.tensor([3, 2])), "logit_diff")
    torch.testing.assert_close(got, torch.tensor([3.0, 2.5]))


@pytest.mark.points(1)
def test_the_previous_token_head_matters_most_in_layer_0(student):
    # Measured on the shipped model: zero-ablating layer 0's previous-token head (head 1) raises the
    # loss on repeated sequences by more than 1; every other head by less than 0.5.
    model = student.load_model()
    tokens = student.repeated_tokens(16, 16, seed=3)
    got = tensor(student.ablation_loss_increase(model, tokens), "ablation_loss_increase")
    assert got.shape == (2, 4), f"shape {tuple(got.shape)}, expected (n_layers, n_heads) = (2, 4)"
    assert got[0, 1] > 1.0, f"ablating head 0.1 raised the loss by {got[0, 1]:.3f}, expected more than 1"
    others = torch.cat([got[0, [0, 2, 3]], got[1]])
    assert (others < 0.5).all() and (others > -0.1).all(), f"the other heads: {got.tolist()}, expected 0 to 0.5"
    torch.testing.assert_close(
        model(tokens), student.load_model()(tokens), msg="after ablation_loss_increase the model is still ablated"
    )


@pytest.mark.points(1)
def test_patching_from_an_identical_run_changes_nothing(student):
    model = student.load_model()
    clean, _, _, _ = induction_pair(0, batch=2)
    got = tensor(student.patch_head(model, clean, clean, 1, 2), "patch_head")
    torch.testing.assert_close(got, model(clean), rtol=1e-4, atol=1e-4)
    got = tensor(student.patch_resid(model, clean, clean, 1, 9), "patch_resid")
    torch.testing.assert_close(got, model(clean), rtol=1e-4, atol=1e-4)


@pytest.mark.points(2)
def test_layer_1_induction_heads_carry_the_answer(student):
    # Measured on the shipped model: each head of layer 1 restores between 0.1 and 0.4 of the
    # logit difference, together about all of it (with some help from layer 0).
    model = student.load_model()
    clean, corrupt, answers, wrongs = induction_pair(1)
    scores = tensor(student.head_patching_scores(model, clean, corrupt, answers, wrongs), "head_patching_scores")
    assert scores.shape == (2, 4), f"shape {tuple(scores.shape)}, expected (n_layers, n_heads) = (2, 4)"
    assert (scores[1] > 0.1).all() and (scores[1] < 0.4).all(), f"layer 1 scores {scores[1].tolist()}, expected 0.1 to 0.4"
    assert 0.7 < scores[1].sum() < 1.3, f"layer 1 scores add up to {scores[1].sum():.3f}, expected about 1"
    assert scores[0].max() < scores[1].min(), f"layer 1 heads should each beat every layer 0 head: {scores.tolist()}"
