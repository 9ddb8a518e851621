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
SMALL = dict(d_vocab=13, n_ctx=9, d_model=10, n_layers=3, n_heads=3, d_head=4)


def trained():
    model = M.AttnOnly()
    model.load_state_dict(load_file(DATA / "weights.safetensors"))
    return model


def random_model(seed, **config):
    model = M.AttnOnly(**config)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)  # biases too: none of them is zero
    return model


def in_kernel(student, model, double=False):
    remote = student.AttnOnly(**{k: getattr(model, k) for k in CONFIG_KEYS})
    if double:
        remote.double()
    remote.load_state_dict({k: v.detach().clone() for k, v in model.state_dict().items()})
    return remote


def random_tokens(seed, batch, pos, d_vocab):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, d_vocab, (batch, pos), generator=g)


def head_results(model, tokens):
    out = {}
    handles = [
        b.attn.hook_result.register_forward_hook(lambda mod, i, o, layer=layer: out.__setitem__(layer, o.detach()))
        for layer, b in enumerate(model.blocks)
    ]
    with torch.no_grad():
        logits = model(tokens)
    for h in handles:
        h.remove()
    return torch.stack([out[layer] for layer in range(len(model.blocks))], dim=2), logits


def expected(model, tokens):
    results, logits = head_results(model, tokens)  # (batch, pos, layer, head, d_model)
    with torch.no_grad():
        nxt = tokens[:, 1:]
        u = model.W_U.T[nxt]  # (batch, pos - 1, d_model)
        heads = (results[:, :-1] * u[:, :, None, None, :]).sum(-1)
        embed = (model.W_E[tokens[:, :-1]] * u).sum(-1)
        b_O = torch.stack([b.attn.b_O for b in model.blocks]).sum(0)
        bias = u @ b_O + model.b_U[nxt]
        target_logit = logits[:, :-1].gather(-1, nxt[..., None])[..., 0]
    return {"embed": embed, "heads": heads, "bias": bias}, target_logit, results, logits


def get(student, remote, tokens, model):
    attr = student.logit_attribution(remote, tokens)
    assert isinstance(attr, dict), f"logit_attribution returned {type(attr).__name__}, expected a dict"
    for key in ("embed", "heads", "bias"):
        assert key in attr, f"no {key!r} in the returned dict (keys: {sorted(attr)})"
        assert isinstance(attr[key], torch.Tensor), f"attr[{key!r}] is a {type(attr[key]).__name__}, expected a tensor"
    b, p = tokens.shape
    shapes = {"embed": (b, p - 1), "heads": (b, p - 1, model.n_layers, model.n_heads), "bias": (b, p - 1)}
    for key, shape in shapes.items():
        assert tuple(attr[key].shape) == shape, (
            f"attr[{key!r}] has shape {tuple(attr[key].shape)}, expected {shape}: one value per position that has a "
            "next token (pos - 1), and (n_layers, n_heads) for the heads"
        )
    return attr


def compare(got, want, key):
    try:
        torch.testing.assert_close(got[key], want[key].to(got[key].dtype), rtol=1e-4, atol=1e-4)
    except AssertionError as exc:
        raise AssertionError(f"attr[{key!r}] is wrong: {exc}") from None


def check_heads(got, model, tokens, results):
    """Compare with the reference; name the common mistake the learner's heads match, if any."""
    with torch.no_grad():
        u = model.W_U.T[tokens[:, 1:]]
        if torch.allclose(got, (results[:, :-1] * u[:, :, None, None, :]).sum(-1), rtol=1e-4, atol=1e-4):
            return
        row = model.W_U[tokens[:, 1:]]  # rows of W_U: only runs because d_model == d_vocab here
        if torch.allclose(got, (results[:, :-1] * row[:, :, None, None, :]).sum(-1), atol=1e-4):
            raise AssertionError(
                "attr['heads'] is wrong: you took a row of W_U (W_U[token]); the unembedding of a token is the "
                "column W_U[:, token]"
            )
        same = model.W_U.T[tokens[:, :-1]]
        if torch.allclose(got, (results[:, :-1] * same[:, :, None, None, :]).sum(-1), atol=1e-4):
            raise AssertionError(
                "attr['heads'] is wrong: you attributed the logit of the token at p itself; the target at p is "
                "tokens[:, p + 1]"
            )
        if torch.allclose(got, (results[:, 1:] * u[:, :, None, None, :]).sum(-1), atol=1e-4):
            raise AssertionError(
                "attr['heads'] is wrong: you used the heads' outputs at p + 1; the logit for tokens[:, p + 1] is "
                "read at position p"
            )
    raise AssertionError(
        "attr['heads'] is wrong: take each head's output at p (hook_result) dotted with the unembedding column of "
        "tokens[:, p + 1]"
    )


@pytest.mark.points(3)
def test_heads_on_the_trained_model(student):
    model = trained()
    tokens = random_tokens(1, 3, 25, 64)
    got = get(student, in_kernel(student, model), tokens, model)
    _, _, results, _ = expected(model, tokens)
    check_heads(got["heads"], model, tokens, results)


@pytest.mark.points(2)
def test_embedding_term_has_no_positions(student):
    model = trained()
    tokens = random_tokens(2, 2, 17, 64)
    got = get(student, in_kernel(student, model), tokens, model)
    want, *_ = expected(model, tokens)
    with torch.no_grad():
        u = model.W_U.T[tokens[:, 1:]]
        with_pos = ((model.W_E[tokens[:, :-1]] + model.W_pos[: tokens.shape[1] - 1]) * u).sum(-1)
    assert not torch.allclose(got["embed"], with_pos, atol=1e-4), (
        "attr['embed'] includes W_pos: in this model positions are added to the queries and keys only "
        "(shortformer), never to the residual stream"
    )
    compare(got, want, "embed")


@pytest.mark.points(2)
def test_bias_term_includes_every_b_O_and_b_U(student):
    model = random_model(3, **SMALL)
    tokens = random_tokens(3, 2, 8, SMALL["d_vocab"])
    got = get(student, in_kernel(student, model), tokens, model)
    want, *_ = expected(model, tokens)
    compare(got, want, "bias")


@pytest.mark.points(2)
def test_everything_adds_up_on_another_model(student):
    model = random_model(4, **SMALL)
    tokens = random_tokens(4, 3, 9, SMALL["d_vocab"])
    got = get(student, in_kernel(student, model), tokens, model)
    want, target_logit, _, _ = expected(model, tokens)
    total = got["embed"] + got["heads"].sum((-1, -2)) + got["bias"]
    try:
        torch.testing.assert_close(total, target_logit, rtol=1e-4, atol=1e-4)
    except AssertionError as exc:
        raise AssertionError(
            "embed + heads.sum() + bias is not the logit of the next token (3 layers, 3 heads, every bias non-zero): "
            f"{exc}"
        ) from None
    for key in ("embed", "heads", "bias"):
        compare(got, want, key)


@pytest.mark.points(1)
def test_batch_of_one_and_two_tokens(student):
    model = random_model(5, **SMALL)
    tokens = random_tokens(5, 1, 2, SMALL["d_vocab"])  # a single position has a next token
    got = get(student, in_kernel(student, model), tokens, model)
    want, *_ = expected(model, tokens)
    for key in ("embed", "heads", "bias"):
        compare(got, want, key)


@pytest.mark.points(1)
def test_keeps_float64(student):
    model = random_model(6, **SMALL).double()
    remote = in_kernel(student, model, double=True)
    tokens = random_tokens(6, 2, 6, SMALL["d_vocab"])
    got = get(student, remote, tokens, model)
    for key in ("embed", "heads", "bias"):
        assert got[key].dtype == torch.float64, (
            f"attr[{key!r}] is {got[key].dtype} for a float64 model: do not create float32 tensors, follow the "
            "model's dtype"
        )
    want, *_ = expected(model, tokens)
    for key in ("embed", "heads", "bias"):
        compare(got, want, key)
