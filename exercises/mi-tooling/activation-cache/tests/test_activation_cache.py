import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent.parent / "data"))
from induction_model import repeated_tokens  # noqa: E402
from induction_model.testing import in_kernel, random_model, trained_pair  # noqa: E402

# Another size (3 layers of 3 heads), so hard-coded shapes and the notebook's global model show.
SMALL = dict(n_layers=3, n_heads=3, d_model=24, d_head=8, n_ctx=23, d_vocab=20)
# The same with positions added to the residual stream (GPT-2's "standard" positional embedding).
SMALL_STANDARD = dict(SMALL, positional_embedding_type="standard")


def run(model, tokens):
    with torch.no_grad():
        return model.run_with_cache(tokens)[1]


def close(a, b):
    return a.shape == b.shape and torch.allclose(a.double(), b.double(), rtol=1e-4, atol=1e-5)


def tensor_of(got, shape):
    assert isinstance(got, torch.Tensor), f"your function returned {type(got).__name__}, expected a tensor"
    assert tuple(got.shape) == tuple(shape), f"your function gave shape {tuple(got.shape)}, expected {tuple(shape)}"
    return got


# --- attention_pattern ---------------------------------------------------------------------------


def check_pattern(student, model, remote, tokens, layer, head):
    batch, pos = tokens.shape
    got = student.attention_pattern(remote, tokens, layer, head)
    assert isinstance(got, torch.Tensor), f"attention_pattern returned {type(got).__name__}, expected a tensor"
    cache = run(model, tokens)
    pattern = cache["attn", layer]  # (batch, head, query, key)
    if tuple(got.shape) != (batch, pos, pos):
        raise AssertionError(
            f"attention_pattern gave shape {tuple(got.shape)}, expected (batch, query_pos, key_pos) = "
            f"{(batch, pos, pos)}: the layer's pattern is (batch, head, query_pos, key_pos), pick the head on axis 1"
        )
    if close(got, pattern[:, head]):
        return
    if head < batch and close(got, pattern[head]):
        raise AssertionError(
            "attention_pattern indexed the batch: cache['pattern', layer] is (batch, head, query_pos, key_pos), "
            "so one head is [:, head]"
        )
    if close(got, pattern[:, head].transpose(-1, -2)):
        raise AssertionError("attention_pattern is transposed: the axes are (query_pos, key_pos), each row sums to 1")
    scores = cache[model.blocks[layer].attn.hook_attn_scores.name][:, head]
    if close(got.nan_to_num(neginf=-1e30), scores.nan_to_num(neginf=-1e30)):
        raise AssertionError(
            "attention_pattern returned the scores before the softmax (hook_attn_scores), not the pattern"
        )
    raise AssertionError(
        "attention_pattern is not the pattern of that layer and head: cache['pattern', layer][:, head]"
    )


@pytest.mark.points(2)
def test_attention_pattern_picks_the_layer_and_the_head(student):
    model, remote = trained_pair(student)
    tokens = repeated_tokens(4, 7, seed=21)  # batch 4 == n_heads 4: indexing the wrong axis keeps the shape
    for layer, head in ((0, 1), (1, 3), (1, 0)):
        check_pattern(student, model, remote, tokens, layer, head)


@pytest.mark.points(1)
def test_attention_pattern_other_sizes_and_batch_of_one(student):
    model = random_model(22, **SMALL)
    remote = in_kernel(student, model)
    check_pattern(student, model, remote, repeated_tokens(1, 6, 20, seed=22), 2, 2)


# --- residual_stack ------------------------------------------------------------------------------


def check_stack(student, model, remote, tokens):
    n = model.cfg.n_layers
    batch, pos = tokens.shape
    got = student.residual_stack(remote, tokens)
    assert isinstance(got, torch.Tensor), f"residual_stack returned {type(got).__name__}, expected a tensor"
    cache = run(model, tokens)
    pre = [cache[model.blocks[layer].hook_resid_pre.name] for layer in range(n)]
    post = [cache[model.blocks[layer].hook_resid_post.name] for layer in range(n)]
    want = torch.stack(pre + post[-1:])
    if tuple(got.shape) == (n, batch, pos, model.cfg.d_model):
        if close(got, torch.stack(post)):
            raise AssertionError(
                "residual_stack has the resid_post of every layer: start with what enters layer 0 (resid_pre 0, "
                "the embeddings) and end with the final resid_post, n_layers + 1 entries"
            )
        if close(got, torch.stack(pre)):
            raise AssertionError("residual_stack misses the final residual stream (resid_post of the last layer)")
    if tuple(got.shape) != tuple(want.shape) and sorted(got.shape) == sorted(want.shape):
        raise AssertionError(
            "residual_stack has its axes in another order: stack on a new first axis, "
            "(n_layers + 1, batch, pos, d_model)"
        )
    assert tuple(got.shape) == tuple(want.shape), (
        f"residual_stack gave shape {tuple(got.shape)}, expected (n_layers + 1, batch, pos, d_model) = "
        f"{tuple(want.shape)}"
    )
    if close(got, want):
        return
    pos_embed = cache[model.hook_pos_embed.name]
    if close(got[0], want[0] + pos_embed):
        raise AssertionError(
            "residual_stack[0] includes the positional embedding: this model is shortformer, positions only reach "
            "the queries and keys; read resid_pre of layer 0 instead of adding embeddings yourself"
        )
    if close(got[0], cache[model.hook_embed.name]) and not close(want[0], got[0]):
        raise AssertionError(
            "residual_stack[0] is the token embedding alone, but this model adds positions to the residual stream "
            "(as GPT-2 does): read resid_pre of layer 0 instead of rebuilding it"
        )
    raise AssertionError(
        "residual_stack is wrong: [resid_pre of layer 0, ..., resid_pre of the last layer, "
        "resid_post of the last layer]"
    )


@pytest.mark.points(2)
def test_residual_stack_on_the_trained_model(student):
    model, remote = trained_pair(student)
    check_stack(student, model, remote, repeated_tokens(3, 9, seed=23))


@pytest.mark.points(2)
def test_residual_stack_other_sizes_and_positions(student):
    for seed, overrides in ((24, SMALL), (25, SMALL_STANDARD)):
        model = random_model(seed, **overrides)
        remote = in_kernel(student, model)
        check_stack(student, model, remote, repeated_tokens(2, 5, 20, seed=seed))
    check_stack(student, model, remote, repeated_tokens(1, 3, 20, seed=26))


# --- head_outputs --------------------------------------------------------------------------------


def check_heads(student, model, remote, tokens, layer):
    batch, pos = tokens.shape
    got = student.head_outputs(remote, tokens, layer)
    assert isinstance(got, torch.Tensor), f"head_outputs returned {type(got).__name__}, expected a tensor"
    cache = run(model, tokens)
    z = cache[model.blocks[layer].attn.hook_z.name]
    with torch.no_grad():
        want = torch.einsum("bphd,hdm->bphm", z, model.W_O[layer])
        b_O = model.b_O[layer]
    shape = (batch, pos, model.cfg.n_heads, model.cfg.d_model)
    if tuple(got.shape) == (batch, pos, model.cfg.d_model):
        raise AssertionError(
            "head_outputs summed over the heads (that is hook_attn_out, minus b_O): keep one output per head, "
            "(batch, pos, n_heads, d_model)"
        )
    assert tuple(got.shape) == shape, (
        f"head_outputs gave shape {tuple(got.shape)}, expected (batch, pos, n_heads, d_model) = {shape}"
    )
    if close(got, want):
        return
    if close(got, want + b_O):
        raise AssertionError(
            "head_outputs added b_O to every head: the bias belongs to the layer (attn_out = sum over heads + b_O "
            "once), not to each head"
        )
    if close(got, want + b_O / model.cfg.n_heads):
        raise AssertionError("head_outputs spread b_O over the heads: leave the bias out, it is not any head's output")
    for other in range(model.cfg.n_layers):
        if other != layer:
            with torch.no_grad():
                if close(got, torch.einsum("bphd,hdm->bphm", z, model.W_O[other])):
                    raise AssertionError(
                        "head_outputs used the W_O of another layer: W_O[layer] is (n_heads, d_head, d_model)"
                    )
    raise AssertionError(
        "head_outputs is wrong: z[b, p, h, :] @ W_O[layer, h] for every head h, with z = cache['z', layer]"
    )


@pytest.mark.points(2)
def test_head_outputs_on_the_trained_model(student):
    model, remote = trained_pair(student)
    tokens = repeated_tokens(2, 10, seed=27)
    for layer in (0, 1):
        check_heads(student, model, remote, tokens, layer)


@pytest.mark.points(2)
def test_head_outputs_other_sizes_with_biases(student):
    model = random_model(28, **SMALL)
    remote = in_kernel(student, model)
    check_heads(student, model, remote, repeated_tokens(2, 6, 20, seed=28), 1)
    check_heads(student, model, remote, repeated_tokens(1, 4, 20, seed=29), 2)


# --- cache_kinds ---------------------------------------------------------------------------------


def check_kinds(student, model, remote, tokens, kinds):
    got = student.cache_kinds(remote, tokens, kinds)
    assert isinstance(got, dict), (
        f"cache_kinds returned {type(got).__name__}, expected a plain dict: return dict(cache.items()), not the "
        "ActivationCache itself"
    )
    cache = run(model, tokens)
    wanted = {f"hook_{kind}" for kind in kinds}
    want = {name: value for name, value in cache.items() if name.split(".")[-1] in wanted}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    if extra and all(any(kind in name for kind in kinds) for name in extra):
        raise AssertionError(
            f"cache_kinds {kinds} also kept {extra[:3]}: matching a kind anywhere in the name catches other hook "
            "points; compare the last part of the name with hook_<kind>"
        )
    assert not extra, f"cache_kinds {kinds} kept other activations too, e.g. {extra[:3]}"
    assert not missing, (
        f"cache_kinds {kinds} misses {missing[:3]}: keep every hook point whose name ends with hook_<kind>, in every "
        "layer and outside the blocks (hook_embed)"
    )
    for name, value in want.items():
        assert isinstance(got[name], torch.Tensor), (
            f"cache[{name!r}] is a {type(got[name]).__name__}, expected a tensor"
        )
        assert close(got[name], value), f"cache[{name!r}] is not that activation"


@pytest.mark.points(3)
def test_cache_kinds_keeps_exactly_the_kinds_asked_for(student):
    model, remote = trained_pair(student)
    tokens = repeated_tokens(2, 6, seed=30)
    resid = model.blocks[0].hook_resid_pre.name.split("hook_")[-1]
    for kinds in (["embed"], ["k"], ["z", "v"], [resid, "embed"]):
        check_kinds(student, model, remote, tokens, kinds)
    small = random_model(31, **SMALL)
    check_kinds(student, small, in_kernel(student, small), repeated_tokens(1, 5, 20, seed=31), ["q", resid])
