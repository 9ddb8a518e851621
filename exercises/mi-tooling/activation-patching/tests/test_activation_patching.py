import sys
from pathlib import Path

import pytest
import torch
from transformer_lens import utils

DATA = Path(__file__).parent.parent / "data"
sys.path.insert(0, str(DATA))
from induction_model import load_model, repeated_tokens  # noqa: E402
from induction_model.testing import in_kernel, random_model  # noqa: E402

SMALL_VOCAB = 13
SMALL = dict(d_vocab=SMALL_VOCAB, n_ctx=12, d_model=12, n_layers=3, n_heads=3, d_head=4)
TOL = dict(rtol=1e-4, atol=1e-4)
# Any string of 6 or more characters in a hidden test is blanked wherever it shows up in the
# output, so hook names that the messages mention are built from shorter pieces.
RESID_PRE, RESID_POST = "resid" + "_pre", "resid" + "_post"


# --- inputs: clean and corrupted induction sequences ---------------------------------------


def pair(seed, batch, length, cut, d_vocab):
    """Clean/corrupted induction sequences: a segment then its first `cut` tokens again."""
    tokens_rng = torch.Generator().manual_seed(seed)
    seg = torch.randint(1, d_vocab, (batch, length), generator=tokens_rng)
    clean = torch.cat([torch.zeros(batch, 1, dtype=torch.long), seg, seg[:, :cut]], dim=1)
    shift = torch.randint(1, d_vocab - 1, (batch,), generator=tokens_rng)
    other = (seg[:, cut] + shift - 1) % (d_vocab - 1) + 1  # never the answer itself, never BOS
    corrupt = clean.clone()
    corrupt[:, cut + 1] = other
    return clean, corrupt, seg[:, cut], other


def ld(logits, answers, wrongs):
    last = logits[:, -1]
    return last[torch.arange(len(answers)), answers] - last[torch.arange(len(wrongs)), wrongs]


def plain(model, tokens):
    with torch.no_grad():
        return model(tokens)


def hooked(model, tokens, name, fn):
    with torch.no_grad():
        return model.run_with_hooks(tokens, fwd_hooks=[(name, fn)])


def assert_plain_afterwards(model, remote, tokens):
    try:
        torch.testing.assert_close(remote(tokens).detach(), plain(model, tokens), **TOL)
    except AssertionError:
        raise AssertionError(
            "after your function returned, a plain run of the model still differs: a hook was left on it "
            "(run_with_hooks removes its hooks; after model.add_hook call model.reset_hooks())"
        ) from None


def explain_left_hooks(model, remote, tokens):
    """Called before giving up on a wrong result: hooks left by earlier calls explain it best."""
    if not close(remote(tokens).detach().float(), plain(model, tokens)):
        raise AssertionError(
            "wrong result, and a plain run of the model is no longer plain either: a hook from this or an earlier "
            "call was left on it (run_with_hooks removes its hooks; after model.add_hook call model.reset_hooks())"
        )


def call_logit_diff(student, *args):
    got = student.logit_diff(*args)
    assert isinstance(got, torch.Tensor), f"logit_diff returned {type(got).__name__}, expected a tensor"
    return got.detach().float()


def call_ablate(student, *args):
    got = student.ablate_head(*args)
    assert isinstance(got, torch.Tensor), f"ablate_head returned {type(got).__name__}, expected a tensor"
    return got.detach().float()


def call_loss_increase(student, *args):
    got = student.ablation_loss_increase(*args)
    assert isinstance(got, torch.Tensor), f"ablation_loss_increase returned {type(got).__name__}, expected a tensor"
    return got.detach().float()


def call_patch_head(student, *args):
    got = student.patch_head(*args)
    assert isinstance(got, torch.Tensor), f"patch_head returned {type(got).__name__}, expected a tensor"
    return got.detach().float()


def call_patch_resid(student, *args):
    got = student.patch_resid(*args)
    assert isinstance(got, torch.Tensor), f"patch_resid returned {type(got).__name__}, expected a tensor"
    return got.detach().float()


def call_scores(student, *args):
    got = student.head_patching_scores(*args)
    assert isinstance(got, torch.Tensor), f"head_patching_scores returned {type(got).__name__}, expected a tensor"
    return got.detach().float()


# --- references -------------------------------------------------------------------------------


def ablated(model, tokens, layer, heads, kind, over=(0,)):
    def fn(z, hook):
        z = z.clone()
        if kind == "zero":
            z[:, :, heads] = 0.0
        else:
            z[:, :, heads] = z[:, :, heads].mean(dim=over, keepdim=True)
        return z

    return hooked(model, tokens, utils.get_act_name("z", layer), fn)


def loss_increase(model, tokens, kind):
    base = plain(model, tokens)
    out = torch.zeros(model.cfg.n_layers, model.cfg.n_heads)
    for layer in range(model.cfg.n_layers):
        for head in range(model.cfg.n_heads):
            logits = ablated(model, tokens, layer, [head], kind)
            out[layer, head] = utils.lm_cross_entropy_loss(logits, tokens) - utils.lm_cross_entropy_loss(base, tokens)
    return out


def patched_z(model, run_on, take_from, layer, heads):
    name = utils.get_act_name("z", layer)
    with torch.no_grad():
        _, cache = model.run_with_cache(take_from, names_filter=name)

    def fn(z, hook):
        z = z.clone()
        z[:, :, heads] = cache[name][:, :, heads]
        return z

    return hooked(model, run_on, name, fn)


def patched_resid(model, run_on, take_from, name, positions):
    with torch.no_grad():
        _, cache = model.run_with_cache(take_from, names_filter=name)

    def fn(resid, hook):
        resid = resid.clone()
        resid[:, positions] = cache[name][:, positions]
        return resid

    return hooked(model, run_on, name, fn)


def reference_scores(model, clean, corrupt, answers, wrongs):
    c, k = ld(plain(model, clean), answers, wrongs), ld(plain(model, corrupt), answers, wrongs)
    scores = torch.zeros(model.cfg.n_layers, model.cfg.n_heads)
    per_example = torch.zeros_like(scores)
    for layer in range(model.cfg.n_layers):
        for head in range(model.cfg.n_heads):
            p = ld(patched_z(model, corrupt, clean, layer, [head]), answers, wrongs)
            scores[layer, head] = (p.mean() - k.mean()) / (c.mean() - k.mean())
            per_example[layer, head] = ((p - k) / (c - k)).mean()
    return scores, per_example


def close(a, b):
    return a.shape == b.shape and torch.allclose(a, b, **TOL)


# --- logit_diff ---------------------------------------------------------------------------------


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
    assert torch.allclose(got, ld(logits, answers, wrongs), atol=1e-5), (
        "logit_diff is wrong: logits[b, -1, answers[b]] - logits[b, -1, wrongs[b]] for each b"
    )
    one = call_logit_diff(student, logits[1:2], answers[1:2], wrongs[1:2])
    assert one.shape == (1,), f"for a batch of one logit_diff gave shape {tuple(one.shape)}, expected (1,)"


# --- ablate_head --------------------------------------------------------------------------------


def check_ablation(student, model, remote, tokens, layer, head, kind):
    got = call_ablate(student, remote, tokens, layer, head, kind)
    want = ablated(model, tokens, layer, [head], kind)
    assert got.shape == want.shape, f"ablate_head gave shape {tuple(got.shape)}, expected the logits' {tuple(want.shape)}"
    if close(got, want):
        return
    if close(got, plain(model, tokens)):
        raise AssertionError(
            f"ablate_head(kind={kind!r}) returned the plain logits: a hook that changes a copy of the "
            "activation must return it"
        )
    if close(got, ablated(model, tokens, layer, list(range(model.cfg.n_heads)), kind)):
        raise AssertionError("ablate_head ablated every head of the layer; change only z[:, :, head]")
    for other in range(model.cfg.n_heads):
        if other != head and close(got, ablated(model, tokens, layer, [other], kind)):
            raise AssertionError(
                f"ablate_head(head={head}) ablated another head: hook_z is (batch, pos, head, d_head)"
            )
    if kind == "mean":
        if close(got, ablated(model, tokens, layer, [head], kind, over=(0, 1))):
            raise AssertionError(
                "mean ablation averaged over positions too: take the mean over the batch, separately at each position"
            )
        if close(got, ablated(model, tokens, layer, [head], kind, over=(1,))):
            raise AssertionError("mean ablation averaged over positions: take the mean over the batch (dim 0)")
        if close(got, ablated(model, tokens, layer, [head], "zero")):
            raise AssertionError("kind='mean' gave the zero ablation: replace the head's z by its batch mean")
    if kind == "zero":
        def zero_position(z, hook):
            z = z.clone()
            z[:, head] = 0.0
            return z

        if close(got, hooked(model, tokens, utils.get_act_name("z", layer), zero_position)):
            raise AssertionError(
                f"ablate_head(head={head}) zeroed position {head} (axis 1) of every head; heads are axis 2 of hook_z"
            )
    explain_left_hooks(model, remote, tokens)
    raise AssertionError(
        f"ablate_head(layer={layer}, head={head}, kind={kind!r}) gives wrong logits "
        f"(largest difference {(got - want).abs().max():.3g})"
    )


@pytest.mark.points(3)
def test_zero_ablation_of_heads_of_the_trained_model(student):
    model = load_model()
    remote = student.load_model()
    tokens = repeated_tokens(4, 12, seed=11)
    for layer, head in ((0, 1), (1, 2), (1, 0)):
        check_ablation(student, model, remote, tokens, layer, head, "zero")
    assert_plain_afterwards(model, remote, tokens)


@pytest.mark.points(2)
def test_mean_ablation_over_the_batch_at_each_position(student):
    model = load_model()
    remote = student.load_model()
    tokens = repeated_tokens(6, 10, seed=12)
    for layer, head in ((0, 1), (1, 3)):
        check_ablation(student, model, remote, tokens, layer, head, "mean")


@pytest.mark.points(2)
def test_ablation_of_another_model(student):
    model = random_model(13, **SMALL)
    remote = in_kernel(student, model)
    tokens = repeated_tokens(3, 5, d_vocab=SMALL_VOCAB, seed=13)
    check_ablation(student, model, remote, tokens, 2, 1, "zero")
    check_ablation(student, model, remote, tokens, 0, 2, "mean")
    check_ablation(student, model, remote, tokens[:1, :7], 1, 0, "zero")
    assert_plain_afterwards(model, remote, tokens)


# --- ablation_loss_increase ------------------------------------------------------------------------


def check_loss_increase(student, model, remote, tokens, kind):
    got = call_loss_increase(student, remote, tokens, kind)
    want = loss_increase(model, tokens, kind)
    assert got.shape == want.shape, (
        f"ablation_loss_increase gave shape {tuple(got.shape)}, expected (n_layers, n_heads) = {tuple(want.shape)}"
    )
    if torch.allclose(got, -want, atol=1e-4) and want.abs().max() > 1e-3:
        raise AssertionError("ablation_loss_increase has the wrong sign: ablated loss minus plain loss")
    if not torch.allclose(got, want, atol=2e-4, rtol=1e-3):
        explain_left_hooks(model, remote, tokens)
    assert torch.allclose(got, want, atol=2e-4, rtol=1e-3), (
        f"ablation_loss_increase(kind={kind!r}) is wrong: for each head, the mean next-token loss with the head "
        "ablated minus the plain loss"
    )


@pytest.mark.points(3)
def test_loss_increase_on_the_trained_model(student):
    model = load_model()
    remote = student.load_model()
    tokens = repeated_tokens(12, 14, seed=14)
    check_loss_increase(student, model, remote, tokens, "zero")
    check_loss_increase(student, model, remote, tokens, "mean")
    assert_plain_afterwards(model, remote, tokens)


@pytest.mark.points(1)
def test_loss_increase_of_another_model(student):
    model = random_model(15, **SMALL)
    remote = in_kernel(student, model)
    check_loss_increase(student, model, remote, repeated_tokens(2, 5, d_vocab=SMALL_VOCAB, seed=15), "zero")


# --- patch_head -----------------------------------------------------------------------------------


def check_patch_head(student, model, remote, clean, corrupt, layer, head):
    got = call_patch_head(student, remote, corrupt, clean, layer, head)
    want = patched_z(model, corrupt, clean, layer, [head])
    assert got.shape == want.shape, f"patch_head gave shape {tuple(got.shape)}, expected the logits' {tuple(want.shape)}"
    if close(got, want):
        return
    if close(got, plain(model, corrupt)):
        raise AssertionError(
            "patch_head returned the unpatched corrupted logits: the hook must return the patched activation "
            "(or change it in place)"
        )
    if close(got, patched_z(model, corrupt, clean, layer, list(range(model.cfg.n_heads)))):
        raise AssertionError("patch_head patched every head of the layer; patch only z[:, :, head]")
    if close(got, patched_z(model, clean, corrupt, layer, [head])):
        raise AssertionError(
            "patch_head ran the clean input with the corrupted activation; run the corrupted input and "
            "patch in the clean head output"
        )
    for other in range(model.cfg.n_heads):
        if other != head and close(got, patched_z(model, corrupt, clean, layer, [other])):
            raise AssertionError(f"patch_head(head={head}) patched another head: hook_z is (batch, pos, head, d_head)")
    explain_left_hooks(model, remote, corrupt)
    raise AssertionError(
        f"patch_head(layer={layer}, head={head}) gives wrong logits (largest difference "
        f"{(got - want).abs().max():.3g}): replace hook_z[:, :, head] of that layer at every position"
    )


@pytest.mark.points(2)
def test_patch_heads_of_the_trained_model(student):
    model = load_model()
    remote = student.load_model()
    clean, corrupt, _, _ = pair(2, 4, 14, 6, 64)
    check_patch_head(student, model, remote, clean, corrupt, 1, 3)
    check_patch_head(student, model, remote, clean, corrupt, 0, 2)
    assert_plain_afterwards(model, remote, corrupt)


@pytest.mark.points(2)
def test_patch_a_head_of_another_model(student):
    model = random_model(1, **SMALL)
    remote = in_kernel(student, model)
    clean, corrupt, _, _ = pair(1, 3, 5, 3, SMALL_VOCAB)
    check_patch_head(student, model, remote, clean, corrupt, 1, 2)
    check_patch_head(student, model, remote, clean[:1], corrupt[:1], 2, 0)
    assert_plain_afterwards(model, remote, corrupt)


# --- patch_resid ----------------------------------------------------------------------------------


def check_patch_resid(student, model, remote, clean, corrupt, layer, pos):
    got = call_patch_resid(student, remote, corrupt, clean, layer, pos)
    pre = utils.get_act_name(RESID_PRE, layer)
    want = patched_resid(model, corrupt, clean, pre, pos)
    assert got.shape == want.shape, (
        f"patch_resid gave shape {tuple(got.shape)}, expected the logits' {tuple(want.shape)}"
    )
    if close(got, want):
        return
    if close(got, plain(model, corrupt)):
        raise AssertionError(
            "patch_resid returned the unpatched corrupted logits: the hook must return the patched residual stream"
        )
    if close(got, patched_resid(model, corrupt, clean, pre, slice(None))):
        raise AssertionError("patch_resid patched every position; patch only resid[:, pos]")
    if close(got, patched_resid(model, clean, corrupt, pre, pos)):
        raise AssertionError("patch_resid ran the clean input; run the corrupted input and patch in the clean value")
    if close(got, patched_resid(model, corrupt, clean, utils.get_act_name(RESID_POST, layer), pos)):
        raise AssertionError(
            "patch_resid patched the residual stream leaving the layer; patch the one entering it, hook_resid_pre"
        )
    explain_left_hooks(model, remote, corrupt)
    raise AssertionError(
        f"patch_resid(layer={layer}, pos={pos}) gives wrong logits (largest difference {(got - want).abs().max():.3g})"
    )


@pytest.mark.points(3)
def test_patch_the_residual_stream_at_one_position(student):
    model = load_model()
    remote = student.load_model()
    clean, corrupt, _, _ = pair(3, 4, 12, 7, 64)
    for layer, pos in ((1, 8), (0, 8), (1, 9), (1, -1)):
        check_patch_resid(student, model, remote, clean, corrupt, layer, pos)
    assert_plain_afterwards(model, remote, corrupt)
    other = random_model(16, **SMALL)
    clean, corrupt, _, _ = pair(16, 2, 5, 3, SMALL_VOCAB)
    check_patch_resid(student, other, in_kernel(student, other), clean, corrupt, 2, 4)


# --- head_patching_scores ---------------------------------------------------------------------------


@pytest.mark.points(3)
def test_scores_on_the_trained_model(student):
    model = load_model()
    clean, corrupt, answers, wrongs = pair(4, 16, 12, 6, 64)
    got = call_scores(student, student.load_model(), clean, corrupt, answers, wrongs)
    want, _ = reference_scores(model, clean, corrupt, answers, wrongs)
    assert got.shape == want.shape, f"shape {tuple(got.shape)}, expected (n_layers, n_heads) = {tuple(want.shape)}"
    assert torch.allclose(got, want, rtol=1e-3, atol=1e-3), "head_patching_scores is wrong on the trained model"


@pytest.mark.points(2)
def test_scores_normalize_the_mean_logit_diff(student):
    model = load_model()
    clean, corrupt, answers, wrongs = pair(8, 5, 9, 4, 64)
    want, per_example = reference_scores(model, clean, corrupt, answers, wrongs)
    got = call_scores(student, student.load_model(), clean, corrupt, answers, wrongs)
    assert got.shape == want.shape, f"shape {tuple(got.shape)}, expected (n_layers, n_heads) = {tuple(want.shape)}"
    if torch.allclose(got, per_example, rtol=1e-3, atol=1e-3):
        raise AssertionError(
            "you averaged per-example ratios; take the batch mean of each logit difference first, then "
            "(LD_patched - LD_corrupt) / (LD_clean - LD_corrupt)"
        )
    if torch.allclose(got, 1 - want, rtol=1e-3, atol=1e-3):
        raise AssertionError(
            "your scores are 1 minus the expected ones: (LD_patched - LD_corrupt) / (LD_clean - LD_corrupt) is 0 "
            "when the patch restores nothing"
        )
    assert torch.allclose(got, want, rtol=1e-3, atol=1e-3), "head_patching_scores is wrong for a batch of 5"


@pytest.mark.points(1)
def test_scores_of_a_three_layer_model(student):
    model = random_model(10, **SMALL)
    clean, corrupt, answers, wrongs = pair(8, 5, 4, 3, SMALL_VOCAB)
    want, _ = reference_scores(model, clean, corrupt, answers, wrongs)
    got = call_scores(student, in_kernel(student, model), clean, corrupt, answers, wrongs)
    assert got.shape == want.shape, (
        f"shape {tuple(got.shape)}, expected (n_layers, n_heads) = {tuple(want.shape)} for 3 layers of 3 heads"
    )
    assert torch.allclose(got, want, rtol=1e-3, atol=1e-3), "head_patching_scores is wrong on a 3-layer, 3-head model"
