"""A small attention-only transformer with induction heads, as a TransformerLens HookedTransformer.

    from induction_model import load_model, repeated_tokens
    model = load_model()                       # HookedTransformer, eval mode, on the CPU
    tokens = repeated_tokens(8, 16, seed=1)    # (8, 33): BOS, 16 random tokens, the same 16 again
    logits, cache = model.run_with_cache(tokens)

The model: 2 layers of 4 attention heads (d_model 64, d_head 16), no MLPs, no LayerNorm,
"shortformer" positions (the positional embedding is added to the queries' and keys' input only,
never to the residual stream), a vocabulary of 64 token ids with 0 as BOS, and a context of 33
tokens. It is built from ``CONFIG`` (no download: ``tokenizer_name=None``, so it takes token ids,
never strings) and loads ``weights.safetensors``, made by ``train.py`` in this folder (seed 0).
Layer 0 has a previous-token head and layer 1 has induction heads.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformer_lens import HookedTransformer, HookedTransformerConfig

__all__ = ["BOS", "CONFIG", "WEIGHTS", "load_model", "make_config", "repeated_tokens", "copy_task_batch"]

BOS = 0
WEIGHTS = Path(__file__).with_name("weights.safetensors")

# The keyword arguments of the HookedTransformerConfig of the shipped model.
CONFIG: dict = dict(
    n_layers=2,
    d_model=64,
    n_heads=4,
    d_head=16,
    n_ctx=33,
    d_vocab=64,
    attn_only=True,
    normalization_type=None,
    positional_embedding_type="shortformer",
    act_fn="relu",  # unused: the model has no MLPs
    tokenizer_name=None,
    default_prepend_bos=False,
)


def make_config(device: str = "cpu", **overrides) -> HookedTransformerConfig:
    """The HookedTransformerConfig of the model, with any field replaced (``n_layers=3``...)."""
    return HookedTransformerConfig(**{**CONFIG, **overrides, "device": device})


def load_model(device: str = "cpu") -> HookedTransformer:
    """The trained model, built from ``CONFIG`` with the weights beside this file, in eval mode."""
    from safetensors.torch import load_file

    model = HookedTransformer(make_config(device))
    model.load_state_dict(load_file(WEIGHTS, device=str(device)))
    return model.eval()


def repeated_tokens(batch: int, half_len: int, d_vocab: int = 64, seed: int = 0) -> torch.Tensor:
    """(batch, 1 + 2 * half_len) long: BOS (0), half_len random tokens from 1..d_vocab-1, the same again.

    Each row is its own random sequence; the same seed gives the same tokens.
    """
    gen = torch.Generator().manual_seed(seed)
    half = torch.randint(1, d_vocab, (batch, half_len), generator=gen)
    bos = torch.full((batch, 1), BOS, dtype=torch.long)
    return torch.cat([bos, half, half], dim=1)


def copy_task_batch(batch: int, gen: torch.Generator, n_ctx: int = 33, d_vocab: int = 64) -> torch.Tensor:
    """The training data: BOS, then random tokens in which a random segment (length 4-16) is copied later.

    The layout varies from row to row; with a fixed layout (copy always at the end, or a fully
    periodic sequence) a model learns a positional shortcut instead of induction heads.
    """
    body = n_ctx - 1
    tokens = torch.randint(1, d_vocab, (batch, n_ctx), generator=gen)
    tokens[:, 0] = BOS
    for row in tokens:
        length = int(torch.randint(4, min(16, body // 2) + 1, (1,), generator=gen))
        first = 1 + int(torch.randint(0, body - 2 * length + 1, (1,), generator=gen))
        second = int(torch.randint(first + length, n_ctx - length + 1, (1,), generator=gen))
        row[second : second + length] = row[first : first + length]
    return tokens
