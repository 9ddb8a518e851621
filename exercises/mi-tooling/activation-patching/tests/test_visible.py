"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


def induction_pair(seed, batch=16, length=12, cut=6):
    g = torch.Generator().manual_seed(seed)
    segment = torch.randint(1, 64, (batch, length), generator=g)
    clean = torch.cat([torch.zeros(batch, 1, dtype=torch.long), segment, segment[:, :cut]], dim=1)
    wrongs = (segment[:, cut] + torch.randint(1, 63, (batch,), generator=g) - 1) % 63 + 1
    corrupt = clean.clone()
    corrupt[:, 1 + cut] = wrongs
    return clean, corrupt, segment[:, cut], wrongs


@pytest.mark.points(1)
def test_logit_diff_example(student):
    logits = torch.zeros(2, 3, 4)
    logits[0, -1] = torch.tensor([0.0, 5.0, 1.0, 2.0])
    logits[1, -1] = torch.tensor([3.0, 0.0, 0.5, 1.0])
    logits[:, 0] = 100.0  # earlier positions do not count
    got = student.logit_diff(logits, torch.tensor([1, 0]), torch.tensor([3, 2]))
    assert isinstance(got, torch.Tensor), f"logit_diff returned {type(got).__name__}, expected a tensor"
    torch.testing.assert_close(got, torch.tensor([3.0, 2.5]))


@pytest.mark.points(1)
def test_patching_from_an_identical_run_changes_nothing(student):
    model = student.load_model("weights.safetensors")
    clean, _, _, _ = induction_pair(0, batch=2)
    got = student.patch_head(model, clean, clean, 1, 2)
    assert isinstance(got, torch.Tensor), f"patch_head returned {type(got).__name__}, expected a tensor"
    torch.testing.assert_close(got, model(clean), rtol=1e-4, atol=1e-4)


@pytest.mark.points(2)
def test_layer_1_induction_heads_carry_the_answer(student):
    # Measured on the shipped weights: each head of layer 1 restores a good part of the logit
    # difference, together about all of it; layer 0 restores less.
    model = student.load_model("weights.safetensors")
    clean, corrupt, answers, wrongs = induction_pair(1)
    scores = student.head_patching_scores(model, clean, corrupt, answers, wrongs)
    assert isinstance(scores, torch.Tensor), f"head_patching_scores returned {type(scores).__name__}, expected a tensor"
    assert scores.shape == (2, 4), f"shape {tuple(scores.shape)}, expected (n_layers, n_heads) = (2, 4)"
    assert (scores[1] > 0.08).all(), f"layer 1 scores {scores[1].tolist()}, expected each above 0.08"
    assert 0.7 < scores[1].sum() < 1.3, f"layer 1 scores add up to {scores[1].sum():.3f}, expected about 1"
    assert scores[0].max() < scores[1].max(), f"the top head should be in layer 1, scores {scores.tolist()}"
