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
SMALL = dict(d_vocab=17, n_ctx=15, d_model=12, n_layers=3, n_heads=3, d_head=4)


def trained():
    model = M.AttnOnly()
    model.load_state_dict(load_file(DATA / "weights.safetensors"))
    return model


def random_model(seed, **config):
    model = M.AttnOnly(**config)
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=rng))
    return model


def in_kernel(student, model):
    remote = student.AttnOnly(**{k: getattr(model, k) for k in CONFIG_KEYS})
    remote.load_state_dict({k: v.detach().clone() for k, v in model.state_dict().items()})
    return remote


def doubled(seed, batch, n, d_vocab):
    gen = torch.Generator().manual_seed(seed + 1000)
    body = torch.randint(1, d_vocab, (batch, n), generator=gen)
    return torch.cat([torch.zeros(batch, 1, dtype=torch.long), body, body], dim=1)


def patterns(model, tokens):
    out = {}
    handles = [
        b.attn.hook_pattern.register_forward_hook(lambda mod, i, o, layer=layer: out.__setitem__(layer, o.detach()))
        for layer, b in enumerate(model.blocks)
    ]
    with torch.no_grad():
        model(tokens)
    for h in handles:
        h.remove()
    return torch.stack([out[layer] for layer in range(len(model.blocks))], dim=1)  # (batch, layer, head, q, k)


def stripe(pattern, offset, dests):
    """Mean over batch and destinations of the attention from p to p - offset."""
    dests = torch.as_tensor(dests)
    return pattern[..., dests, dests - offset].mean(dim=(0, -1))


def prev_reference(model, tokens):
    return stripe(patterns(model, tokens), 1, range(1, tokens.shape[1]))


def induction_reference(model, tokens):
    n = (tokens.shape[1] - 1) // 2
    return stripe(patterns(model, tokens), n - 1, range(n + 1, 2 * n + 1))


def close(a, b):
    return torch.allclose(a.double(), b.double(), rtol=1e-4, atol=1e-5)


@pytest.mark.points(1)
def test_attention_patterns_stack_every_layer(student):
    model = random_model(1, **SMALL)
    tokens = doubled(1, 2, 5, SMALL["d_vocab"])
    got = student.attention_patterns(in_kernel(student, model), tokens)
    assert isinstance(got, torch.Tensor), f"attention_patterns returned {type(got).__name__}, expected a tensor"
    want = patterns(model, tokens)
    assert got.shape == want.shape, (
        f"attention_patterns gave shape {tuple(got.shape)}, expected (batch, n_layers, n_heads, query_pos, key_pos) = "
        f"{tuple(want.shape)}"
    )
    assert close(got, want), "attention_patterns does not hold the hook_pattern outputs, layer by layer"


@pytest.mark.points(2)
def test_previous_token_scores(student):
    for model, tokens in (
        (trained(), doubled(2, 4, 16, 64)),
        (random_model(2, **SMALL), doubled(3, 3, 7, SMALL["d_vocab"])),
    ):
        shape = (model.n_layers, model.n_heads)
        got = student.previous_token_scores(in_kernel(student, model), tokens)
        assert isinstance(got, torch.Tensor), f"previous_token_scores returned {type(got).__name__}, expected a tensor"
        assert tuple(got.shape) == shape, (
            f"previous_token_scores gave shape {tuple(got.shape)}, expected (n_layers, n_heads) = {shape}"
        )
        if close(got, prev_reference(model, tokens)):
            continue
        pattern = patterns(model, tokens)
        pos = tokens.shape[1]
        if close(got, stripe(pattern, 0, range(pos))):
            raise AssertionError(
                "you scored attention to the current position; a previous-token head attends from p to p - 1"
            )
        if close(got, pattern.diagonal(offset=1, dim1=-2, dim2=-1).mean(dim=(0, -1))):
            raise AssertionError(
                "your scores read pattern[..., p, p + 1]: the last two axes are (query, key), so use offset -1"
            )
        if close(got, stripe(pattern, 1, range(1, pos)) * (pos - 1) / pos):
            raise AssertionError(
                "you divided by pos; position 0 has no previous token, average over the pos - 1 positions 1..pos-1"
            )
        raise AssertionError(
            "previous_token_scores is wrong: average pattern[b, l, h, p, p - 1] over the batch and p = 1 .. pos - 1"
        )


def check_induction(student, model, tokens):
    shape = (model.n_layers, model.n_heads)
    got = student.induction_scores(in_kernel(student, model), tokens)
    assert isinstance(got, torch.Tensor), f"induction_scores returned {type(got).__name__}, expected a tensor"
    assert tuple(got.shape) == shape, (
        f"induction_scores gave shape {tuple(got.shape)}, expected (n_layers, n_heads) = {shape}"
    )
    if close(got, induction_reference(model, tokens)):
        return
    n = (tokens.shape[1] - 1) // 2
    pattern = patterns(model, tokens)
    second = range(n + 1, 2 * n + 1)
    if close(got, stripe(pattern, n, second)):
        raise AssertionError(
            "you scored attention to the previous occurrence of the current token (p - n); an induction head "
            "attends to the token after it, p - n + 1"
        )
    if close(got, stripe(pattern, n - 2, second)):
        raise AssertionError("off by one: the token after the previous occurrence is at p - n + 1, not p - n + 2")
    if close(got, pattern.diagonal(offset=-(n - 1), dim1=-2, dim2=-1).mean(dim=(0, -1))):
        raise AssertionError(
            "you averaged the whole diagonal, which also has two destinations in the first copy; "
            "average over the n positions of the second copy only"
        )
    raise AssertionError(
        "induction_scores is wrong: average pattern[b, l, h, p, p - n + 1] over the batch and p = n + 1 .. 2n"
    )


@pytest.mark.points(3)
def test_induction_scores_on_the_trained_model(student):
    check_induction(student, trained(), doubled(4, 6, 16, 64))


@pytest.mark.points(2)
def test_induction_scores_other_sizes_odd_half_and_batch_of_one(student):
    check_induction(student, random_model(5, **SMALL), doubled(5, 1, 7, SMALL["d_vocab"]))
    check_induction(student, trained(), doubled(6, 2, 9, 64))


@pytest.mark.points(2)
def test_find_induction_heads_filters_and_sorts(student):
    model = trained()
    remote = in_kernel(student, model)
    tokens = doubled(7, 8, 16, 64)
    scores = induction_reference(model, tokens)
    ranked = sorted(((layer, h) for layer in range(2) for h in range(4)), key=lambda lh: -scores[lh].item())
    for threshold in (0.4, float(scores[1].median())):
        got = student.find_induction_heads(remote, tokens, threshold)
        assert isinstance(got, (list, tuple)), f"find_induction_heads returned {type(got).__name__}, expected a list"
        got = [tuple(int(x) for x in h) for h in got]
        want = [lh for lh in ranked if scores[lh] > threshold]
        assert sorted(got) == sorted(want), (
            f"with threshold {threshold:.3f} you found {got}, expected the heads {sorted(want)}"
        )
        assert got == want, (
            f"with threshold {threshold:.3f} the heads are right but the order {got} is not: highest score first"
        )


@pytest.mark.points(1)
def test_repeated_tokens_seeds_and_vocabulary(student):
    a = student.repeated_tokens(4, 6, 10, 3)
    b = student.repeated_tokens(4, 6, 10, 3)
    c = student.repeated_tokens(4, 6, 10, 4)
    assert isinstance(a, torch.Tensor), f"repeated_tokens returned {type(a).__name__}, expected a tensor"
    assert a.shape == (4, 13), f"shape {tuple(a.shape)} for batch 4, half_len 6, expected (4, 13)"
    assert torch.equal(a, b), "the same seed must give the same tokens"
    assert not torch.equal(a, c), "different seeds should give different tokens"
    assert ((a[:, 1:] >= 1) & (a[:, 1:] < 10)).all(), "with d_vocab = 10 the random tokens come from 1..9"
    assert len({tuple(row.tolist()) for row in a}) == 4, "every row should be a different random sequence"
    assert torch.equal(a[:, 1:7], a[:, 7:]) and (a[:, 0] == 0).all(), "BOS, then the half, then the same half again"
