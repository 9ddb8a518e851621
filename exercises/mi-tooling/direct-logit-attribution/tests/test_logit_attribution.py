import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent.parent / "data"))
from induction_model import repeated_tokens  # noqa: E402
from induction_model.testing import in_kernel, random_model, trained_pair  # noqa: E402

# Another model: 3 layers of 2 heads (7 components, not 9), d_vocab != d_model, a final LayerNorm (as
# in GPT-2 loaded with its LayerNorm weights folded: LNPre) and positions added to the residual stream.
OTHER = dict(
    n_layers=3, n_heads=2, d_model=24, d_head=8, n_ctx=23, d_vocab=20,
    normalization_type="LNPre", positional_embedding_type="standard",
)  # fmt: skip


def random_tokens(seed, batch, pos, d_vocab):
    tokens = torch.randint(1, d_vocab, (batch, pos), generator=torch.Generator().manual_seed(seed))
    tokens[:, 0] = 0
    return tokens


def components(model, tokens, apply_ln=True):
    # (n_layers * n_heads + 1, batch, pos, d_model) and the logits
    with torch.no_grad():
        ran = model.run_with_cache(tokens)
        logits, cache = ran
        return cache.stack_head_results(layer=-1, incl_remainder=True, apply_ln=apply_ln), logits


def through(stack, directions):
    # stack (c, batch, pos - 1, d_model) . directions (batch, pos - 1, d_model)
    return (stack * directions[None]).sum(-1)


def close(a, b):
    return a.shape == b.shape and torch.allclose(a.double(), b.double(), rtol=1e-4, atol=1e-4)


def shape_of(got, model, tokens):
    assert isinstance(got, torch.Tensor), f"your function returned {type(got).__name__}, expected a tensor"
    batch, pos = tokens.shape
    n_heads = model.cfg.n_layers * model.cfg.n_heads
    shape = (n_heads + 1, batch, pos - 1)
    if tuple(got.shape) == (n_heads + 1, batch, pos):
        raise AssertionError(
            f"shape {tuple(got.shape)}: one value per position that has a next token, pos - 1 of them (the last "
            "position predicts a token that is not in the sequence)"
        )
    if tuple(got.shape) == (n_heads, batch, pos - 1):
        raise AssertionError(
            "one component is missing: after the n_layers * n_heads heads comes the remainder (embeddings and "
            "biases), stack_head_results(..., incl_remainder=True)"
        )
    if tuple(got.shape) == (9, batch, pos - 1) and shape != (9, batch, pos - 1):
        raise AssertionError(
            f"shape {tuple(got.shape)} for a model of {model.cfg.n_layers} layers of {model.cfg.n_heads} heads: use "
            "the model passed as an argument, not the global model of your notebook"
        )
    assert tuple(got.shape) == shape, (
        f"shape {tuple(got.shape)}, expected (n_layers * n_heads + 1, batch, pos - 1) = {shape}"
    )
    return got


def directions(model, targets, wrong=None, rows=False):
    # (batch, pos - 1, d_model): the unembedding column of each target (minus that of the wrong token);
    # rows=True takes the rows of W_U instead, which only runs when d_model == d_vocab
    unembed = model.W_U if rows else model.W_U.T
    with torch.no_grad():
        return unembed[targets] if wrong is None else unembed[targets] - unembed[wrong]


def diagnose(got, model, tokens, wrong=None):
    # name the usual mistake that got matches, if any
    stack, _ = components(model, tokens)
    nxt, cur = tokens[:, 1:], tokens[:, :-1]
    if close(got, through(stack[:, :, :-1], directions(model, cur, wrong))):
        raise AssertionError(
            f"{'logit_attribution' if wrong is None else 'logit_diff_attribution'}: "
            "you attributed the logit of the token at p itself; position p predicts the next token, "
            "tokens[:, p + 1]"
        )
    if close(got, through(stack[:, :, 1:], directions(model, nxt, wrong))):
        raise AssertionError(
            f"{'logit_attribution' if wrong is None else 'logit_diff_attribution'}: "
            "you read the components at p + 1; the logit for tokens[:, p + 1] is read at position p, "
            "so take positions 0 .. pos - 2 (stack[:, :, :-1])"
        )
    if model.cfg.d_model == model.cfg.d_vocab and close(
        got, through(stack[:, :, :-1], directions(model, nxt, wrong, rows=True))
    ):
        raise AssertionError(
            f"{'logit_attribution' if wrong is None else 'logit_diff_attribution'}: "
            "you took rows of W_U (W_U[token]); W_U is (d_model, d_vocab) and a token's direction is the "
            "column W_U[:, token]"
        )
    raw, _ = components(model, tokens, apply_ln=False)
    if not close(raw, stack) and close(got, through(raw[:, :, :-1], directions(model, nxt, wrong))):
        raise AssertionError(
            f"{'logit_attribution' if wrong is None else 'logit_diff_attribution'}: "
            "this model has a final LayerNorm and you left it out: stack_head_results(..., apply_ln=True) "
            "scales each component as the final LayerNorm scales the whole residual stream"
        )
    if not close(raw, stack):
        with torch.no_grad():
            twice = model.run_with_cache(tokens)[1].apply_ln_to_stack(stack, layer=-1)
        if close(got, through(twice[:, :, :-1], directions(model, nxt, wrong))):
            raise AssertionError(
                f"{'logit_attribution' if wrong is None else 'logit_diff_attribution'}: "
                "you applied the final LayerNorm twice: cache.logit_attrs applies it itself, so give it a stack "
                "made without apply_ln"
            )
    heads = stack[:-1].reshape(model.cfg.n_layers, model.cfg.n_heads, *stack.shape[1:]).transpose(0, 1)
    reordered = torch.cat([heads.flatten(0, 1), stack[-1:]])
    if close(got, through(reordered[:, :, :-1], directions(model, nxt, wrong))):
        raise AssertionError(
            f"{'logit_attribution' if wrong is None else 'logit_diff_attribution'}: "
            "your heads are in the order (head, layer); list them layer by layer, L0H0, L0H1, ..., as "
            "stack_head_results does"
        )


def check_attribution(student, model, remote, tokens):
    got = shape_of(student.logit_attribution(remote, tokens), model, tokens)
    stack, logits = components(model, tokens)
    nxt = tokens[:, 1:]
    if close(got, through(stack[:, :, :-1], directions(model, nxt))):
        return
    diagnose(got, model, tokens)
    with torch.no_grad():
        target = logits[:, :-1].gather(-1, nxt[..., None])[..., 0] - model.b_U[nxt]
    if not close(got.sum(0), target):
        raise AssertionError(
            "logit_attribution does not add up: summed over the components, plus b_U of the next token, it should be "
            "the logit that the model gives to the next token"
        )
    raise AssertionError(
        "logit_attribution adds up but splits the logit wrongly between the components: heads in the order of "
        "stack_head_results, then the remainder"
    )


def check_diff(student, model, remote, tokens, wrong):
    got = shape_of(student.logit_diff_attribution(remote, tokens, wrong), model, tokens)
    stack, _ = components(model, tokens)
    nxt = tokens[:, 1:]
    want = through(stack[:, :, :-1], directions(model, nxt, wrong))
    if close(got, want):
        return
    if close(got, -want):
        raise AssertionError(
            "logit_diff_attribution has the wrong sign: it is logit(right next token) - logit(wrong token)"
        )
    if close(got, through(stack[:, :, :-1], directions(model, nxt))):
        raise AssertionError(
            "logit_diff_attribution ignores the wrong tokens: the direction is W_U[:, right] - W_U[:, wrong]"
        )
    diagnose(got, model, tokens, wrong)
    raise AssertionError(
        "logit_diff_attribution is wrong: each component at p, dotted with "
        "W_U[:, tokens[:, p + 1]] - W_U[:, wrong[:, p]]"
    )


@pytest.mark.points(3)
def test_logit_attribution_on_the_trained_model(student):
    model, remote = trained_pair(student)
    check_attribution(student, model, remote, random_tokens(41, 3, 25, 64))
    check_attribution(student, model, remote, repeated_tokens(2, 12, seed=42))


@pytest.mark.points(3)
def test_logit_attribution_with_a_final_layernorm_and_other_sizes(student):
    model = random_model(43, **OTHER)
    remote = in_kernel(student, model)
    check_attribution(student, model, remote, random_tokens(43, 2, 9, 20))


@pytest.mark.points(1)
def test_logit_attribution_batch_of_one_and_two_tokens(student):
    model = random_model(44, **OTHER)
    remote = in_kernel(student, model)
    check_attribution(student, model, remote, random_tokens(44, 1, 2, 20))  # a single position has a next token


def wrong_for(tokens, d_vocab, seed):
    # wrong tokens, never the right next one
    nxt = tokens[:, 1:]
    shift = torch.randint(1, d_vocab, nxt.shape, generator=torch.Generator().manual_seed(seed))
    return (nxt + shift) % d_vocab


@pytest.mark.points(2)
def test_logit_diff_attribution_on_the_trained_model(student):
    model, remote = trained_pair(student)
    tokens = repeated_tokens(2, 14, seed=45)
    check_diff(student, model, remote, tokens, wrong_for(tokens, 64, 45))
    check_diff(student, model, remote, tokens, tokens[:, :-1].clone())  # "repeat the current token"


@pytest.mark.points(2)
def test_logit_diff_attribution_with_a_final_layernorm_and_other_sizes(student):
    model = random_model(46, **OTHER)
    remote = in_kernel(student, model)
    tokens = random_tokens(46, 3, 7, 20)
    check_diff(student, model, remote, tokens, wrong_for(tokens, 20, 46))
