"""Train the model of this package: python train.py [out.safetensors]   (writes weights.safetensors)

A HookedTransformer built from ``CONFIG`` (2 attention-only layers, 4 heads) learns to predict
the next token of ``copy_task_batch`` sequences: BOS, then random tokens in which a random segment
of 4-16 tokens is copied to a random later offset. Only the copy can be predicted, and only by
looking back for the previous occurrence of the current token: the model grows a previous-token
head in layer 0 and induction heads in layer 1.

Seed 0, AdamW lr 3e-3, batch 64, 700 steps: under a minute on a CPU (torch 2.13 CPU build,
TransformerLens 2.18.0). A rerun reproduces the weights up to float rounding that depends on
the CPU and its thread count; the heads and their scores come out the same.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transformer_lens import HookedTransformer  # noqa: E402

from induction_model import copy_task_batch, make_config, repeated_tokens  # noqa: E402

SEED = 0
STEPS = 700
BATCH = 64
LR = 3e-3


def head_scores(model: HookedTransformer) -> tuple[torch.Tensor, torch.Tensor]:
    """(previous-token scores, induction scores), each (n_layers, n_heads), on repeated random tokens."""
    tokens = repeated_tokens(16, 16, model.cfg.d_vocab, seed=1)
    n = 16  # destinations p = n + 1 .. 2n (the second copy) attend to p - n + 1 in an induction head
    _, cache = model.run_with_cache(tokens, names_filter=lambda name: name.endswith("hook_pattern"))
    pattern = torch.stack([cache["pattern", layer] for layer in range(model.cfg.n_layers)], dim=1)
    prev = pattern.diagonal(offset=-1, dim1=-2, dim2=-1).mean(dim=(0, -1))
    dests = torch.arange(n + 1, 2 * n + 1)
    induction = pattern[..., dests, dests - n + 1].mean(dim=(0, -1))
    return prev, induction


def main(out: str = str(Path(__file__).with_name("weights.safetensors"))) -> None:
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    model = HookedTransformer(make_config("cpu"))
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    start = time.time()
    for step in range(STEPS):
        tokens = copy_task_batch(BATCH, gen, model.cfg.n_ctx, model.cfg.d_vocab)
        loss = model(tokens, return_type="loss")
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == STEPS - 1:
            print(f"step {step:4d}  loss {loss.item():.3f}  {time.time() - start:.0f} s")
    model.eval()
    with torch.no_grad():
        prev, induction = head_scores(model)
    torch.set_printoptions(precision=3, sci_mode=False)
    print("previous-token scores (layer, head):\n", prev)
    print("induction scores (layer, head):\n", induction)
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
