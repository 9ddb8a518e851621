"""Visible tests: shipped in the starter pack, so learners can run them offline."""

from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.visible

CORPUS = (Path(__file__).parent.parent / "data" / "corpus.txt").read_text(encoding="ascii")


@pytest.mark.points(1)
def test_tokenizer(student):
    vocab = student.vocab
    assert vocab == sorted(set(CORPUS)), "vocab must be sorted(set(text)) of corpus.txt"
    ids = student.encode("the cat.\n")
    assert isinstance(ids, list) and all(type(i) is int for i in ids), f"encode returned {ids!r}, expected a list of ints"
    assert ids == [vocab.index(c) for c in "the cat.\n"], f"encode('the cat.\\n') gave {ids}; token i is vocab[i]"
    assert student.decode(ids) == "the cat.\n", "decode(encode(s)) must give s back"


@pytest.mark.points(1)
def test_model_maps_tokens_to_logits(student):
    tokens = torch.tensor([student.encode("anna sees a red ball."), student.encode("the fox runs to the r")])
    logits = student.model(tokens)
    assert isinstance(logits, torch.Tensor), f"model(tokens) returned {type(logits).__name__}, expected a tensor"
    expected = (2, 21, len(sorted(set(CORPUS))))
    assert tuple(logits.shape) == expected, f"logits shape {tuple(logits.shape)}, expected (batch, seq, len(vocab)) = {expected}"
    assert torch.isfinite(logits).all(), "the logits contain nan or inf"
