"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible

CFG = dict(d_vocab=50, n_ctx=16, d_model=32, n_heads=4, d_head=8, d_mlp=64, n_layers=2, layer_norm_eps=1e-5)


def expected_shapes(cfg):
    """The state_dict contract of the README, as {key: shape}."""
    m, v, h, d = cfg["d_model"], cfg["d_vocab"], cfg["n_heads"], cfg["d_head"]
    shapes = {
        "embed.W_E": (v, m),
        "pos_embed.W_pos": (cfg["n_ctx"], m),
        "ln_final.w": (m,),
        "ln_final.b": (m,),
        "unembed.W_U": (m, v),
        "unembed.b_U": (v,),
    }
    for layer in range(cfg["n_layers"]):
        p = f"blocks.{layer}."
        shapes |= {p + "ln1.w": (m,), p + "ln1.b": (m,), p + "ln2.w": (m,), p + "ln2.b": (m,)}
        for name in "QKV":
            shapes |= {p + f"attn.W_{name}": (h, m, d), p + f"attn.b_{name}": (h, d)}
        shapes |= {p + "attn.W_O": (h, d, m), p + "attn.b_O": (m,)}
        shapes |= {
            p + "mlp.W_in": (m, cfg["d_mlp"]),
            p + "mlp.b_in": (cfg["d_mlp"],),
            p + "mlp.W_out": (cfg["d_mlp"], m),
            p + "mlp.b_out": (m,),
        }
    return shapes


@pytest.mark.points(2)
def test_state_dict_keys_and_shapes(student):
    model = student.GPT(CFG)
    got = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    want = expected_shapes(CFG)
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    assert not missing and not extra, f"state_dict keys: missing {missing}, unexpected {extra}"
    wrong = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
    assert not wrong, f"shapes (yours, expected): {wrong}"


@pytest.mark.points(1)
def test_logits_shape_and_dtype(student):
    model = student.GPT(CFG)
    tokens = torch.randint(0, CFG["d_vocab"], (2, 5), generator=torch.Generator().manual_seed(0))
    logits = model(tokens)
    assert isinstance(logits, torch.Tensor), f"model(tokens) returned {type(logits).__name__}, expected a tensor"
    assert logits.shape == (2, 5, CFG["d_vocab"]), f"logits shape {tuple(logits.shape)}, expected (batch, seq, d_vocab) = (2, 5, 50)"
    assert logits.dtype == torch.float32, f"logits dtype {logits.dtype}, expected float32"


@pytest.mark.points(1)
def test_greedy_sample(student):
    logits = torch.tensor([[0.1, 2.0, -1.0, 1.9], [5.0, -5.0, 0.0, 4.0], [0.0, 0.0, 0.0, 3.0]])
    got = student.sample(logits, 0.0, 0)
    assert isinstance(got, torch.Tensor), f"sample returned {type(got).__name__}, expected a tensor"
    assert got.dtype == torch.int64, f"sample returned dtype {got.dtype}, expected int64 token ids"
    assert got.tolist() == [1, 0, 3], f"greedy sampling (temperature 0) gave {got.tolist()}, expected the argmax of each row [1, 0, 3]"
