import importlib.util
import inspect
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

DATA = Path(__file__).parent.parent / "data"
# (the file name is built from short pieces: a string of 6+ characters in a hidden test is blanked
# wherever it shows up in the output, and the learner's tracebacks name this file too)
_spec = importlib.util.spec_from_file_location("judge_attn_only", DATA / ("model" + ".py"))
M = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(M)

CONFIG_KEYS = tuple(inspect.signature(M.AttnOnly).parameters)
SMALL = dict(d_vocab=11, n_ctx=9, d_model=12, n_layers=3, n_heads=3, d_head=5)


def trained():
    model = M.AttnOnly()
    model.load_state_dict(load_file(DATA / "weights.safetensors"))
    return model


def random_model(seed, **config):
    model = M.AttnOnly(**config)
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=rng) * 0.5)
    return model


def in_kernel(student, model):
    """The same model, built in the learner's kernel from the learner's import of AttnOnly."""
    remote = student.AttnOnly(**{k: getattr(model, k) for k in CONFIG_KEYS})
    remote.load_state_dict({k: v.detach().clone() for k, v in model.state_dict().items()})
    return remote


def hook_names(model):
    return [n for n, mod in model.named_modules() if isinstance(mod, M.HookPoint)]


def expected_cache(model, tokens, names=None):
    names = hook_names(model) if names is None else names
    out = {}
    handles = [
        model.get_submodule(n).register_forward_hook(lambda mod, i, o, n=n: out.__setitem__(n, o.detach().clone()))
        for n in names
    ]
    with torch.no_grad():
        model(tokens)
    for h in handles:
        h.remove()
    return out


def random_tokens(seed, batch, pos, d_vocab):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(1, d_vocab, (batch, pos), generator=g)
    tokens[:, 0] = 0
    return tokens


def call(student, remote, tokens, names=None):
    got = (
        student.cache_activations(remote, tokens) if names is None else student.cache_activations(remote, tokens, names)
    )
    assert isinstance(got, dict), f"cache_activations returned {type(got).__name__}, expected a dict"
    for key, value in got.items():
        assert isinstance(value, torch.Tensor), f"cache[{key!r}] is a {type(value).__name__}, expected a tensor"
    return got


def check_keys(got, expected):
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    assert not (missing and len(got) == 1), (
        f"only one key, {sorted(got)}, for {len(expected)} hook points: if every hook writes under the same name, "
        "your hook function reads the loop variable when it runs (late binding); bind the name when you make it"
    )
    assert not missing, (
        f"{len(missing)} hook point(s) missing from the cache, e.g. {missing[:3]}: hook every HookPoint from "
        "model.named_modules() (nested ones too) under its full dotted name"
    )
    assert not extra, f"unexpected keys {extra[:3]}: cache only HookPoint modules, under their names"


def check_values(got, expected):
    for name, value in expected.items():
        assert got[name].shape == value.shape, (
            f"cache[{name!r}] has shape {tuple(got[name].shape)}, expected {tuple(value.shape)}: "
            "is each output stored under its own hook point's name?"
        )
        try:
            torch.testing.assert_close(got[name], value, rtol=1e-4, atol=1e-5)
        except AssertionError as exc:
            raise AssertionError(f"cache[{name!r}] is not that hook point's output: {exc}") from None


def hooks_left(remote, model):
    left = []
    for name, _ in model.named_modules():
        module = remote.get_submodule(name)
        n = len(module._forward_hooks) + len(module._forward_pre_hooks)
        if n:
            left.append(f"{name or 'model'} ({n})")
    return left


@pytest.mark.points(2)
def test_keys_are_every_hook_point(student):
    model = trained()
    tokens = random_tokens(1, 3, 20, 64)
    check_keys(call(student, in_kernel(student, model), tokens), hook_names(model))


@pytest.mark.points(3)
def test_values_match_each_hook_point(student):
    model = trained()
    tokens = random_tokens(2, 3, 20, 64)
    got = call(student, in_kernel(student, model), tokens)
    expected = expected_cache(model, tokens)
    check_keys(got, expected)
    check_values(got, expected)


@pytest.mark.points(2)
def test_other_sizes_and_batch_of_one(student):
    model = random_model(3, **SMALL)
    tokens = random_tokens(3, 1, 7, SMALL["d_vocab"])
    got = call(student, in_kernel(student, model), tokens)
    expected = expected_cache(model, tokens)
    check_keys(got, expected)
    check_values(got, expected)


@pytest.mark.points(2)
def test_hooks_removed_afterwards(student):
    model = random_model(4, **SMALL)
    remote = in_kernel(student, model)
    for seed in (4, 5):
        call(student, remote, random_tokens(seed, 2, 6, SMALL["d_vocab"]))
    left = hooks_left(remote, model)
    assert not left, f"hooks left on the model after cache_activations returned: {', '.join(left[:4])}"
    # And a plain forward pass afterwards gives the plain logits.
    tokens = random_tokens(6, 2, 6, SMALL["d_vocab"])
    with torch.no_grad():
        expected = model(tokens)
    try:
        torch.testing.assert_close(remote(tokens), expected, rtol=1e-4, atol=1e-5)
    except AssertionError as exc:
        raise AssertionError(f"a plain forward pass after cache_activations gives other logits: {exc}") from None


@pytest.mark.points(2)
def test_hooks_removed_when_forward_raises(student):
    model = random_model(7, **SMALL)
    remote = in_kernel(student, model)
    call(student, remote, random_tokens(7, 1, 4, SMALL["d_vocab"]))  # a normal call works first
    too_long = random_tokens(7, 1, SMALL["n_ctx"] + 3, SMALL["d_vocab"])  # the model refuses this
    try:
        student.cache_activations(remote, too_long)
    except Exception:
        pass
    else:
        raise AssertionError(
            "the model raised on a too-long sequence but cache_activations did not: let the error propagate"
        )
    left = hooks_left(remote, model)
    assert not left, (
        f"hooks left on the model after its forward pass raised: {', '.join(left[:4])}; "
        "remove them in a try/finally block"
    )


@pytest.mark.points(1)
def test_cache_holds_detached_tensors(student):
    model = random_model(8, **SMALL)
    remote = in_kernel(student, model)
    got = call(student, remote, random_tokens(8, 2, 5, SMALL["d_vocab"]))
    grads = sorted(k for k, v in got.items() if v.requires_grad)
    assert not grads, (
        f"cache[{grads[0]!r}] still requires grad: store output.detach() (or run under torch.no_grad()) "
        "so the cache does not keep the autograd graph alive"
    )


@pytest.mark.points(2)
def test_names_select_hook_points_and_each_call_starts_fresh(student):
    model = trained()
    remote = in_kernel(student, model)
    tokens = random_tokens(9, 2, 12, 64)
    names = ["blocks.1.attn.hook_pattern", "hook_embed"]
    got = call(student, remote, tokens, names)
    assert set(got) == set(names), (
        f"asked for {len(names)} hook points by name, got {len(got)} keys: cache only the names asked for, in a new "
        "dict on each call"
    )
    check_values(got, expected_cache(model, tokens, names))
    again = call(student, remote, tokens[:1, :5], ["blocks.0.hook_resid_post"])
    assert set(again) == {"blocks.0.hook_resid_post"}, (
        f"a second call asking for one name returned {len(again)} keys: each call needs a new, empty cache dict"
    )
    check_values(again, expected_cache(model, tokens[:1, :5], ["blocks.0.hook_resid_post"]))


@pytest.mark.points(1)
def test_unknown_name_raises(student):
    model = random_model(10, **SMALL)
    remote = in_kernel(student, model)
    tokens = random_tokens(10, 1, 4, SMALL["d_vocab"])
    call(student, remote, tokens, hook_names(model)[:1])  # a normal call works first
    try:
        student.cache_activations(remote, tokens, ["blocks.0.hook_nothing"])
    except Exception:
        pass
    else:
        raise AssertionError("an unknown hook point name was silently ignored: raise a KeyError")
    left = hooks_left(remote, model)
    assert not left, f"hooks left on the model after an unknown name: {', '.join(left[:4])}"


# --- ablate_head: a forward hook that changes the output -------------------------------------


def run_with_head_zeroed(model, tokens, layer, heads):
    def zero(mod, i, o):
        o = o.clone()
        o[:, :, heads] = 0.0
        return o

    h = model.blocks[layer].attn.hook_z.register_forward_hook(zero)
    try:
        with torch.no_grad():
            return model(tokens)
    finally:
        h.remove()


def plain_logits(model, tokens):
    with torch.no_grad():
        return model(tokens)


def call_ablate(student, *args):
    got = student.ablate_head(*args)
    assert isinstance(got, torch.Tensor), f"ablate_head returned {type(got).__name__}, expected a tensor"
    return got


def call_add(student, *args):
    got = student.add_to_residual(*args)
    assert isinstance(got, torch.Tensor), f"add_to_residual returned {type(got).__name__}, expected a tensor"
    return got


def check_ablation(student, model, remote, tokens, layer, head):
    got = call_ablate(student, remote, tokens, layer, head)
    left = hooks_left(remote, model)
    assert not left, f"hooks left on the model after ablate_head returned: {', '.join(left[:4])}"
    want = run_with_head_zeroed(model, tokens, layer, [head])
    assert got.shape == want.shape, f"ablate_head gave shape {tuple(got.shape)}, expected the logits' {tuple(want.shape)}"
    if torch.allclose(got, want, rtol=1e-4, atol=1e-4):
        return
    if torch.allclose(got, plain_logits(model, tokens), rtol=1e-4, atol=1e-4):
        raise AssertionError(
            "ablate_head returned the plain logits: if the hook changes a copy of the output it must return it"
        )
    if torch.allclose(got, run_with_head_zeroed(model, tokens, layer, list(range(model.n_heads))), rtol=1e-4, atol=1e-4):
        raise AssertionError("ablate_head zeroed every head of the layer; zero only output[:, :, head]")
    for other in range(model.n_heads):
        if other != head and torch.allclose(got, run_with_head_zeroed(model, tokens, layer, [other]), rtol=1e-4, atol=1e-4):
            raise AssertionError(
                f"ablate_head(head={head}) zeroed another head: hook_z is (batch, pos, n_heads, d_head), the head is axis 2"
            )
    raise AssertionError(
        f"ablate_head(layer={layer}, head={head}) gives wrong logits (largest difference {(got - want).abs().max():.3g})"
    )


@pytest.mark.points(3)
def test_ablate_heads_of_the_trained_model(student):
    model = trained()
    remote = in_kernel(student, model)
    tokens = random_tokens(11, 3, 17, 64)
    for layer, head in ((0, 2), (1, 1), (1, 3)):
        check_ablation(student, model, remote, tokens, layer, head)


@pytest.mark.points(2)
def test_ablate_a_head_of_another_model(student):
    model = random_model(12, **SMALL)
    remote = in_kernel(student, model)
    check_ablation(student, model, remote, random_tokens(12, 1, 6, SMALL["d_vocab"]), 2, 1)
    check_ablation(student, model, remote, random_tokens(13, 2, 9, SMALL["d_vocab"]), 0, 2)


@pytest.mark.points(1)
def test_plain_runs_after_ablation(student):
    model = random_model(14, **SMALL)
    remote = in_kernel(student, model)
    tokens = random_tokens(14, 2, 6, SMALL["d_vocab"])
    call_ablate(student, remote, tokens, 1, 0)
    try:
        torch.testing.assert_close(remote(tokens), plain_logits(model, tokens), rtol=1e-4, atol=1e-5)
    except AssertionError as exc:
        raise AssertionError(f"a plain forward pass after ablate_head is still ablated: {exc}") from None


# --- add_to_residual: a forward pre-hook that changes the input ------------------------------


def run_with_added(model, tokens, layer, vector, positions):
    def add(mod, args):
        resid = args[0].clone()
        resid[:, positions] += vector
        return (resid, *args[1:])

    h = model.blocks[layer].register_forward_pre_hook(add)
    try:
        with torch.no_grad():
            return model(tokens)
    finally:
        h.remove()


def run_with_added_after(model, tokens, layer, vector, pos):
    def add(mod, args, output):
        output = output.clone()
        output[:, pos] += vector
        return output

    h = model.blocks[layer].register_forward_hook(add)
    try:
        with torch.no_grad():
            return model(tokens)
    finally:
        h.remove()


def check_added(student, model, remote, tokens, layer, vector, pos):
    got = call_add(student, remote, tokens, layer, vector, pos)
    left = hooks_left(remote, model)
    assert not left, f"hooks left on the model after add_to_residual returned: {', '.join(left[:4])}"
    want = run_with_added(model, tokens, layer, vector, pos)
    assert got.shape == want.shape, (
        f"add_to_residual gave shape {tuple(got.shape)}, expected the logits' {tuple(want.shape)}"
    )
    if torch.allclose(got, want, rtol=1e-4, atol=1e-4):
        return
    if torch.allclose(got, plain_logits(model, tokens), rtol=1e-4, atol=1e-4):
        raise AssertionError(
            "add_to_residual returned the plain logits: the pre-hook must return the changed arguments"
        )
    if torch.allclose(got, run_with_added(model, tokens, layer, vector, slice(None)), rtol=1e-4, atol=1e-4):
        raise AssertionError("add_to_residual added the vector at every position; add it at position pos only")
    if torch.allclose(got, run_with_added_after(model, tokens, layer, vector, pos), rtol=1e-4, atol=1e-4):
        raise AssertionError(
            "add_to_residual added the vector to the block's output; add it to its input (a forward pre-hook)"
        )
    raise AssertionError(
        f"add_to_residual(layer={layer}) gives wrong logits (largest difference {(got - want).abs().max():.3g})"
    )


@pytest.mark.points(3)
def test_add_to_the_residual_stream_of_the_trained_model(student):
    model = trained()
    remote = in_kernel(student, model)
    tokens = random_tokens(15, 3, 14, 64)
    g = torch.Generator().manual_seed(15)
    check_added(student, model, remote, tokens, 1, torch.randn(64, generator=g), 5)
    check_added(student, model, remote, tokens, 0, torch.randn(64, generator=g), 9)
    check_added(student, model, remote, tokens, 1, torch.randn(64, generator=g), -1)


@pytest.mark.points(2)
def test_add_to_the_residual_stream_of_another_model(student):
    model = random_model(16, **SMALL)
    remote = in_kernel(student, model)
    g = torch.Generator().manual_seed(16)
    check_added(student, model, remote, random_tokens(16, 1, 7, SMALL["d_vocab"]), 2, torch.randn(12, generator=g), 0)
    check_added(student, model, remote, random_tokens(17, 2, 9, SMALL["d_vocab"]), 1, torch.randn(12, generator=g), -3)
    tokens = random_tokens(18, 2, 6, SMALL["d_vocab"])
    try:
        torch.testing.assert_close(remote(tokens), plain_logits(model, tokens), rtol=1e-4, atol=1e-5)
    except AssertionError as exc:
        raise AssertionError(f"a plain forward pass after add_to_residual is still changed: {exc}") from None
