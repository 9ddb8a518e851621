"""Helpers for the tests of the bundles that share this model (``shared = ["induction_model"]``).

A bundle's tests put its data folder (where this package lies) first on ``sys.path``, then:

    from induction_model.testing import in_kernel, random_model, trained_pair

``random_model`` makes a judge-side model of another size with seeded random weights, so that
hard-coded shapes and the notebook's global ``model`` show; ``in_kernel`` builds the same model in
the learner's kernel with the notebook's own ``HookedTransformer`` and loads the judge's weights
into it, so that the learner's functions run on a model whose every number the judge knows.
"""

from __future__ import annotations

from typing import Any

import torch
from transformer_lens import HookedTransformer

from . import CONFIG, load_model, make_config

__all__ = ["WEIGHT_SCALE", "in_kernel", "random_model", "trained_pair"]

# The standard deviation of random_model's weights: peaked attention patterns (the heads' stripes
# differ) and biases that are clearly not zero.
WEIGHT_SCALE = 0.4


def random_model(seed: int, **overrides: Any) -> HookedTransformer:
    """The model of ``make_config(**overrides)`` (CPU, eval mode) with seeded random weights.

    Every parameter, biases included, is drawn from N(0, WEIGHT_SCALE²) by one generator seeded
    with ``seed``, in the order of ``model.parameters()``: the same seed gives the same model.
    """
    model = HookedTransformer(make_config(**overrides))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * WEIGHT_SCALE)
    return model.eval()


def in_kernel(student: Any, model: HookedTransformer) -> Any:
    """The same model in the learner's kernel (a handle to it), built with the notebook's own class.

    The kernel's ``HookedTransformer`` is built from the fields of ``CONFIG`` as ``model.cfg`` has
    them (for a model of ``make_config(**overrides)``: ``{**CONFIG, **overrides}``), loads a copy
    of ``model``'s state_dict and is put in eval mode. A notebook without ``HookedTransformer``
    (the setup cell deleted) fails with an AssertionError that says to keep that cell.
    """
    try:
        build = student.HookedTransformer
    except AssertionError:
        raise AssertionError(
            "your notebook must keep the setup cell (`from transformer_lens import HookedTransformer`): the tests "
            "build models of other sizes with it"
        ) from None
    fields = {name: getattr(model.cfg, name) for name in CONFIG}
    remote = build(fields)
    remote.load_state_dict({name: value.detach().clone() for name, value in model.state_dict().items()})
    remote.eval()
    return remote


def trained_pair(student: Any) -> tuple[HookedTransformer, Any]:
    """The trained model (``load_model()``) and the same model in the learner's kernel."""
    model = load_model()
    return model, in_kernel(student, model)
