"""A small attention-only transformer with named hook points (plain PyTorch, no TransformerLens).

Layout (the names follow TransformerLens, so what you learn here transfers):

    tokens (batch, pos)
      -> hook_embed:         W_E[tokens]                      (batch, pos, d_model)   = the residual stream
      -> hook_pos_embed:     W_pos[:pos]                      (pos, d_model)
      for each layer l, in blocks[l]:
         hook_resid_pre:     residual stream entering layer l (batch, pos, d_model)
         attn.hook_q / hook_k / hook_v                        (batch, pos, n_heads, d_head)
         attn.hook_attn_scores: scaled, causally masked scores (batch, n_heads, query_pos, key_pos)
         attn.hook_pattern:  softmax of the scores over key_pos (batch, n_heads, query_pos, key_pos)
         attn.hook_z:        pattern-weighted values          (batch, pos, n_heads, d_head)
         attn.hook_result:   each head's output, z @ W_O[h]   (batch, pos, n_heads, d_model)
         hook_attn_out:      sum of the heads' outputs + b_O  (batch, pos, d_model)
         hook_resid_post:    hook_resid_pre + hook_attn_out   (batch, pos, d_model)
      -> logits = resid_final @ W_U + b_U                     (batch, pos, d_vocab)

No LayerNorm and no MLPs, so the logits are a sum of linear contributions. "Shortformer"
positions: the positional embedding is added to the input of the queries and keys only, never
to the residual stream (or the values).

Every hook point is a `HookPoint` module (an identity): attach `register_forward_hook` to it. A
forward hook that returns a tensor replaces the hook point's output.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class HookPoint(nn.Identity):
    """A named place in the forward pass to attach forward hooks; returns its input unchanged."""


class Attention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, d_head: int) -> None:
        super().__init__()
        self.n_heads, self.d_head = n_heads, d_head
        self.W_Q = nn.Parameter(torch.empty(n_heads, d_model, d_head))
        self.W_K = nn.Parameter(torch.empty(n_heads, d_model, d_head))
        self.W_V = nn.Parameter(torch.empty(n_heads, d_model, d_head))
        self.W_O = nn.Parameter(torch.empty(n_heads, d_head, d_model))
        self.b_Q = nn.Parameter(torch.zeros(n_heads, d_head))
        self.b_K = nn.Parameter(torch.zeros(n_heads, d_head))
        self.b_V = nn.Parameter(torch.zeros(n_heads, d_head))
        self.b_O = nn.Parameter(torch.zeros(d_model))
        for w in (self.W_Q, self.W_K, self.W_V, self.W_O):
            nn.init.normal_(w, std=1 / math.sqrt(d_model))
        self.hook_q = HookPoint()
        self.hook_k = HookPoint()
        self.hook_v = HookPoint()
        self.hook_attn_scores = HookPoint()
        self.hook_pattern = HookPoint()
        self.hook_z = HookPoint()
        self.hook_result = HookPoint()

    def forward(self, resid: torch.Tensor, pos_embed: torch.Tensor) -> torch.Tensor:
        qk_input = resid + pos_embed  # shortformer: positions only reach queries and keys
        q = self.hook_q(torch.einsum("bpm,hmd->bphd", qk_input, self.W_Q) + self.b_Q)
        k = self.hook_k(torch.einsum("bpm,hmd->bphd", qk_input, self.W_K) + self.b_K)
        v = self.hook_v(torch.einsum("bpm,hmd->bphd", resid, self.W_V) + self.b_V)
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(self.d_head)
        n = resid.shape[1]
        future = torch.triu(torch.ones(n, n, dtype=torch.bool, device=resid.device), diagonal=1)
        scores = self.hook_attn_scores(scores.masked_fill(future, float("-inf")))
        pattern = self.hook_pattern(scores.softmax(dim=-1))
        z = self.hook_z(torch.einsum("bhqk,bkhd->bqhd", pattern, v))
        result = self.hook_result(torch.einsum("bqhd,hdm->bqhm", z, self.W_O))
        return result.sum(dim=2) + self.b_O


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, d_head: int) -> None:
        super().__init__()
        self.hook_resid_pre = HookPoint()
        self.attn = Attention(d_model, n_heads, d_head)
        self.hook_attn_out = HookPoint()
        self.hook_resid_post = HookPoint()

    def forward(self, resid: torch.Tensor, pos_embed: torch.Tensor) -> torch.Tensor:
        resid = self.hook_resid_pre(resid)
        attn_out = self.hook_attn_out(self.attn(resid, pos_embed))
        return self.hook_resid_post(resid + attn_out)


class AttnOnly(nn.Module):
    """An attention-only transformer: embed, n_layers attention layers, unembed."""

    def __init__(
        self,
        d_vocab: int = 64,
        n_ctx: int = 33,
        d_model: int = 64,
        n_layers: int = 2,
        n_heads: int = 4,
        d_head: int = 16,
    ) -> None:
        super().__init__()
        self.d_vocab, self.n_ctx, self.d_model = d_vocab, n_ctx, d_model
        self.n_layers, self.n_heads, self.d_head = n_layers, n_heads, d_head
        self.W_E = nn.Parameter(torch.randn(d_vocab, d_model) / math.sqrt(d_model))
        self.W_pos = nn.Parameter(torch.randn(n_ctx, d_model) / math.sqrt(d_model))
        self.blocks = nn.ModuleList([Block(d_model, n_heads, d_head) for _ in range(n_layers)])
        self.W_U = nn.Parameter(torch.randn(d_model, d_vocab) / math.sqrt(d_model))
        self.b_U = nn.Parameter(torch.zeros(d_vocab))
        self.hook_embed = HookPoint()
        self.hook_pos_embed = HookPoint()

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (batch, pos) of ints -> logits (batch, pos, d_vocab)."""
        if tokens.shape[-1] > self.n_ctx:
            raise ValueError(f"sequence of {tokens.shape[-1]} tokens is longer than n_ctx = {self.n_ctx}")
        resid = self.hook_embed(self.W_E[tokens])
        pos_embed = self.hook_pos_embed(self.W_pos[: tokens.shape[-1]])
        for block in self.blocks:
            resid = block(resid, pos_embed)
        return resid @ self.W_U + self.b_U


def load_model(path: str = "weights.safetensors") -> AttnOnly:
    """The trained model of this exercise (made by train.py), in eval mode."""
    from safetensors.torch import load_file

    model = AttnOnly()
    model.load_state_dict(load_file(path))
    return model.eval()
