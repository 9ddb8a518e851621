"""GPU check of the interpretability exercises' model: the shared induction model under TransformerLens
on CUDA gives what it gives on the CPU, and how fast.

    python bench/gpu_mi.py

Run on a machine with a GPU and TransformerLens (the sandbox's mi image on a GPU worker, or a lent
GPU machine with the mi packages carried as wheels). Never part of the test suite. Prints the
device, the previous-token scores of layer 0 and the induction scores of layer 1 on both devices,
their largest difference, and the median time of a forward pass with the activation cache.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "exercises" / "_shared"))
from induction_model import load_model, repeated_tokens  # noqa: E402

HALF = 16


def scores(device: str) -> tuple[torch.Tensor, torch.Tensor, float]:
    model = load_model(device=device)
    tokens = repeated_tokens(64, HALF, seed=1).to(device)
    _, cache = model.run_with_cache(tokens)
    # Previous-token: attention from each position to the one before (BOS excluded).
    prev = cache["pattern", 0].diagonal(offset=-1, dim1=-2, dim2=-1)[..., 1:].mean(dim=(0, -1))
    # Induction: from the second copy to the token after the same token in the first copy.
    induction = cache["pattern", 1].diagonal(offset=-(HALF - 1), dim1=-2, dim2=-1)[..., -HALF:].mean(dim=(0, -1))
    times = []
    for _ in range(20):
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        model.run_with_cache(tokens)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return prev.cpu(), induction.cpu(), statistics.median(times[5:])


def main() -> None:
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device here")
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    results = {device: scores(device) for device in ("cpu", "cuda")}
    for device, (prev, induction, seconds) in results.items():
        print(f"{device:5} previous-token L0 {[round(x, 3) for x in prev.tolist()]}")
        print(f"{device:5} induction      L1 {[round(x, 3) for x in induction.tolist()]}")
        print(f"{device:5} run_with_cache, batch 64 x 33 tokens: {seconds * 1000:.2f} ms (median of 15)")
    diff = max((results["cpu"][i] - results["cuda"][i]).abs().max().item() for i in (0, 1))
    print(f"largest CPU/CUDA difference in the scores: {diff:.2e}")
    if diff > 1e-3:
        raise SystemExit("CPU and CUDA disagree")


if __name__ == "__main__":
    main()
