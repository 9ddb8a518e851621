"""Runs inside the learner's kernel (and in the judge, for the reference): no expected values here."""

import torch


def train(optimizer_cls, steps=20, **kwargs):
    """Train a small fixed network with ``optimizer_cls``; return its final weights as data."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    x = torch.randn(32, 4)
    y = x.sum(dim=1, keepdim=True)
    optimizer = optimizer_cls(model.parameters(), **kwargs)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
    return {name: p.detach().clone() for name, p in model.named_parameters()}
