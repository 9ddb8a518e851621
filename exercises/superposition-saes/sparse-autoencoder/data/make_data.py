"""Make toy_activations.safetensors: cached activations of a toy model of superposition.

Run from this folder with the course's mi environment (torch 2.13.0, CPU):

    python make_data.py

1. Train the toy model of the previous exercises (24 features, 8 hidden dimensions, every
   feature present with probability 0.05, uniform in [0, 1), equal importance): it learns to
   store all 24 features in superposition. Its columns W[:, i] are the ground truth an SAE
   should find.
2. Cache its hidden activations h = W x for 16,384 fresh sparse inputs x, plus a fixed offset
   of norm 2: a real model's activations sit far from the origin (a residual stream has a large
   mean), and the SAE's decoder bias b_dec is there to take it out.

Saved tensors (float32): "activations" (16384, 8), "W" (8, 24), "offset" (8,).
"""

from pathlib import Path

import torch
from safetensors.torch import save_file

N_FEATURES, N_HIDDEN, FEATURE_PROBABILITY = 24, 8, 0.05
N_ROWS, OFFSET_NORM, SEED = 16384, 2.0, 0


def sparse_features(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, N_FEATURES): each entry uniform in [0, 1) with probability FEATURE_PROBABILITY, else 0."""
    values = torch.rand(n, N_FEATURES, generator=generator)
    return values * (torch.rand(n, N_FEATURES, generator=generator) < FEATURE_PROBABILITY)


def train_toy_model(steps: int = 3000, batch_size: int = 1024, lr: float = 1e-2) -> torch.Tensor:
    """The toy model x -> ReLU(W^T W x + b), trained on sparse inputs; returns W (N_HIDDEN, N_FEATURES)."""
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    W = torch.nn.Parameter(torch.nn.init.xavier_normal_(torch.empty(N_HIDDEN, N_FEATURES)))
    b = torch.nn.Parameter(torch.zeros(N_FEATURES))
    optimizer = torch.optim.Adam([W, b], lr=lr)
    for _ in range(steps):
        x = sparse_features(batch_size, generator)
        out = torch.relu(x @ W.T @ W + b)
        loss = ((x - out) ** 2).sum(-1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return W.detach()


def main() -> None:
    torch.set_num_threads(1)
    W = train_toy_model()
    generator = torch.Generator().manual_seed(SEED + 1)
    offset = torch.randn(N_HIDDEN, generator=generator)
    offset = offset / offset.norm() * OFFSET_NORM
    activations = sparse_features(N_ROWS, generator) @ W.T + offset
    out = Path(__file__).with_name("toy_activations.safetensors")
    save_file({"activations": activations.contiguous(), "W": W.contiguous(), "offset": offset}, out)
    norms = W.norm(dim=0)
    print(f"wrote {out.name}: activations {tuple(activations.shape)}; feature norms {norms.min():.2f}-{norms.max():.2f}")


if __name__ == "__main__":
    main()
