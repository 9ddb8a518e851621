import importlib.util
import inspect
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

DATA = Path(__file__).parent.parent / "data"
_spec = importlib.util.spec_from_file_location("judge_attn_only", DATA / "model.py")
M = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(M)

CONFIG_KEYS = tuple(inspect.signature(M.AttnOnly).parameters)
SMALL = dict(d_vocab=13, n_ctx=10, d_model=10, n_layers=3, n_heads=3, d_head=4)


def trained():
    model = M.AttnOnly()
    model.load_state_dict(load_file(DATA / "weights.safetensors"))
    return model


def random_model(seed, **config):
    model = M.AttnOnly(**config)
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=rng) * 0.4)
    return model


def in_kernel(student, model):
    remote = student.AttnOnly(**{k: getattr(model, k) for k in CONFIG_KEYS})
    remote.load_state_dict({k: v.detach().clone() for k, v in model.state_dict().items()})
    return remote


def pair(seed, batch, length, cut, d_vocab):
    """Clean/corrupted induction sequences: a segment then its first `cut` tokens again."""
    gen = torch.Generator().manual_seed(seed)
    seg = torch.randint(1, d_vocab, (batch, length), generator=gen)
    clean_tokens = torch.cat([torch.zeros(batch, 1, dtype=torch.long), seg, seg[:, :cut]], dim=1)
    shift = torch.randint(1, d_vocab - 1, (batch,), generator=gen)
    other = (seg[:, cut] + shift - 1) % (d_vocab - 1) + 1  # never the answer itself, never BOS
    corrupt_tokens = clean_tokens.clone()
    corrupt_tokens[:, cut + 1] = other
    return clean_tokens, corrupt_tokens, seg[:, cut], other


def ld(logits, answers, wrongs):
    last = logits[:, -1]
    return last[torch.arange(len(answers)), answers] - last[torch.arange(len(wrongs)), wrongs]


def run_patched(model, run_on, take_from, layer, heads):
    point = model.blocks[layer].attn.hook_z
    saved = {}
    h = point.register_forward_hook(lambda mod, i, o: saved.__setitem__(0, o.detach().clone()))
    with torch.no_grad():
        model(take_from)
    h.remove()

    def patch(mod, i, o):
        o = o.clone()
        o[:, :, heads] = saved[0][:, :, heads]
        return o

    h = point.register_forward_hook(patch)
    with torch.no_grad():
        out = model(run_on)
    h.remove()
    return out


def reference_scores(model, clean, corrupt, answers, wrongs):
    with torch.no_grad():
        c = ld(model(clean), answers, wrongs)
        k = ld(model(corrupt), answers, wrongs)
    scores = torch.zeros(model.n_layers, model.n_heads)
    per_example = torch.zeros(model.n_layers, model.n_heads)
    for layer in range(model.n_layers):
        for head in range(model.n_heads):
            p = ld(run_patched(model, corrupt, clean, layer, [head]), answers, wrongs)
            scores[layer, head] = (p.mean() - k.mean()) / (c.mean() - k.mean())
            per_example[layer, head] = ((p - k) / (c - k)).mean()
    return scores, per_example


def hooks_left(remote, model):
    left = []
    for name, _ in model.named_modules():
        module = remote.get_submodule(name)
        n = len(module._forward_hooks) + len(module._forward_pre_hooks)
        if n:
            left.append(f"{name or 'model'} ({n})")
    return left


def call_logit_diff(student, *args):
    got = student.logit_diff(*args)
    assert isinstance(got, torch.Tensor), f"logit_diff returned {type(got).__name__}, expected a tensor"
    return got


def call_patch(student, *args):
    got = student.patch_head(*args)
    assert isinstance(got, torch.Tensor), f"patch_head returned {type(got).__name__}, expected a tensor"
    return got


def call_scores(student, *args):
    got = student.head_patching_scores(*args)
    assert isinstance(got, torch.Tensor), f"head_patching_scores returned {type(got).__name__}, expected a tensor"
    return got


@pytest.mark.points(2)
def test_logit_diff_at_the_last_position_per_example(student):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 7, generator=g)
    answers, wrongs = torch.tensor([1, 4, 6]), torch.tensor([2, 0, 5])
    got = call_logit_diff(student, logits, answers, wrongs)
    assert got.shape == (3,), (
        f"logit_diff gave shape {tuple(got.shape)}, expected (batch,) = (3,): one value per example, no mean"
    )
    first = logits[:, 0]
    if torch.allclose(got, first[torch.arange(3), answers] - first[torch.arange(3), wrongs], atol=1e-6):
        raise AssertionError("logit_diff read position 0; the prediction that matters is at the last position, -1")
    try:
        torch.testing.assert_close(got, ld(logits, answers, wrongs))
    except AssertionError as exc:
        raise AssertionError(f"logit_diff is wrong: {exc}") from None
    one = call_logit_diff(student, logits[1:2], answers[1:2], wrongs[1:2])
    assert one.shape == (1,), f"for a batch of one logit_diff gave shape {tuple(one.shape)}, expected (1,)"


def check_patch(student, model, remote, clean, corrupt, layer, head):
    got = call_patch(student, remote, corrupt, clean, layer, head)
    left = hooks_left(remote, model)
    assert not left, (
        f"hooks left on the model after patch_head returned: {', '.join(left[:4])}; remove them (try/finally)"
    )
    want = run_patched(model, corrupt, clean, layer, [head])
    assert got.shape == want.shape, (
        f"patch_head gave shape {tuple(got.shape)}, expected the logits' shape {tuple(want.shape)}"
    )
    if torch.allclose(got, want, rtol=1e-4, atol=1e-4):
        return
    with torch.no_grad():
        plain = model(corrupt)
    if torch.allclose(got, plain, rtol=1e-4, atol=1e-4):
        raise AssertionError(
            "patch_head returned the unpatched corrupted logits: the hook must return the modified output "
            "(or change it in place), on the corrupted run"
        )
    if torch.allclose(got, run_patched(model, corrupt, clean, layer, list(range(model.n_heads))), rtol=1e-4, atol=1e-4):
        raise AssertionError("patch_head replaced every head of the layer; patch only output[:, :, head]")
    if torch.allclose(got, run_patched(model, clean, corrupt, layer, [head]), rtol=1e-4, atol=1e-4):
        raise AssertionError(
            "patch_head ran the clean input with the corrupted activation; run the corrupted input and "
            "patch in the clean head output"
        )
    raise AssertionError(
        f"patch_head(layer={layer}, head={head}) gives wrong logits (largest difference "
        f"{(got - want).abs().max():.3g}): replace blocks[layer].attn.hook_z[:, :, head] at every position"
    )


@pytest.mark.points(3)
def test_patch_one_head_of_another_model(student):
    model = random_model(1, **SMALL)
    clean, corrupt, _, _ = pair(1, 3, 5, 3, SMALL["d_vocab"])
    check_patch(student, model, in_kernel(student, model), clean, corrupt, 1, 2)


@pytest.mark.points(2)
def test_patch_heads_of_the_trained_model(student):
    model = trained()
    remote = in_kernel(student, model)
    clean, corrupt, _, _ = pair(2, 4, 12, 5, 64)
    check_patch(student, model, remote, clean, corrupt, 1, 3)
    check_patch(student, model, remote, clean, corrupt, 0, 1)


@pytest.mark.points(2)
def test_no_hooks_left_between_calls(student):
    model = random_model(3, **SMALL)
    remote = in_kernel(student, model)
    clean, corrupt, _, _ = pair(3, 2, 5, 2, SMALL["d_vocab"])
    call_patch(student, remote, corrupt, clean, 2, 0)
    left = hooks_left(remote, model)
    assert not left, (
        f"hooks left on the model after patch_head returned: {', '.join(left[:4])}; remove them (try/finally)"
    )
    check_patch(student, model, remote, clean, corrupt, 0, 1)
    with torch.no_grad():
        plain = model(corrupt)
    assert torch.allclose(remote(corrupt), plain, rtol=1e-4, atol=1e-4), (
        "after patch_head, a plain run of the model is still patched"
    )


@pytest.mark.points(3)
def test_scores_on_the_trained_model(student):
    model = trained()
    clean, corrupt, answers, wrongs = pair(4, 16, 12, 6, 64)
    got = call_scores(student, in_kernel(student, model), clean, corrupt, answers, wrongs)
    want, _ = reference_scores(model, clean, corrupt, answers, wrongs)
    assert got.shape == want.shape, f"shape {tuple(got.shape)}, expected (n_layers, n_heads) = {tuple(want.shape)}"
    try:
        torch.testing.assert_close(got.float(), want, rtol=1e-3, atol=1e-3)
    except AssertionError as exc:
        raise AssertionError(f"head_patching_scores is wrong on the trained model: {exc}") from None


@pytest.mark.points(2)
def test_scores_normalize_the_mean_logit_diff(student):
    model = trained()
    clean, corrupt, answers, wrongs = pair(8, 5, 9, 4, 64)
    want, per_example = reference_scores(model, clean, corrupt, answers, wrongs)
    got = call_scores(student, in_kernel(student, model), clean, corrupt, answers, wrongs)
    assert got.shape == want.shape, f"shape {tuple(got.shape)}, expected (n_layers, n_heads) = {tuple(want.shape)}"
    if torch.allclose(got.float(), per_example, rtol=1e-3, atol=1e-3):
        raise AssertionError(
            "you averaged per-example ratios; take the batch mean of each logit difference first, then "
            "(LD_patched - LD_corrupt) / (LD_clean - LD_corrupt)"
        )
    try:
        torch.testing.assert_close(got.float(), want, rtol=1e-3, atol=1e-3)
    except AssertionError as exc:
        raise AssertionError(f"head_patching_scores is wrong for a batch of 5: {exc}") from None


@pytest.mark.points(1)
def test_scores_of_a_three_layer_model(student):
    model = random_model(6, **SMALL)
    clean, corrupt, answers, wrongs = pair(8, 5, 4, 3, SMALL["d_vocab"])
    want, _ = reference_scores(model, clean, corrupt, answers, wrongs)
    got = call_scores(student, in_kernel(student, model), clean, corrupt, answers, wrongs)
    assert got.shape == want.shape, (
        f"shape {tuple(got.shape)}, expected (n_layers, n_heads) = {tuple(want.shape)} for 3 layers of 3 heads"
    )
    try:
        torch.testing.assert_close(got.float(), want, rtol=1e-3, atol=1e-3)
    except AssertionError as exc:
        raise AssertionError(f"head_patching_scores is wrong on a 3-layer, 3-head model: {exc}") from None
