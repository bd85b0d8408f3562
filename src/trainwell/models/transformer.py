"""The transformer encoder: embed -> [+ positions] -> nn.TransformerEncoder -> pool -> linear head.

Two input modes, decided by the data kind (spec.kind):

* text: int64 token ids (batch, L), 0 = padding, 2 = <cls> (see data/text.py). An embedding with
  padding_idx 0; padding positions are masked out of attention (src_key_padding_mask).
* timeseries / sequence: float (batch, T, F). A linear projection F -> d_model; nothing is padded.

Pooling turns the sequence into one vector: "mean" averages the non-padding positions; "cls"
prepends a <cls> position (the <cls> token id for text, a learned vector for floats) and reads
the head from its output. The building blocks are PyTorch's own encoder layers (batch_first,
pre-norm: it trains without a warm-up, which matters for short runs on small data).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import UserError

PAD, CLS = 0, 2  # the ids data/text.py reserves
SEQUENCE_KINDS = ("timeseries", "sequence")


def sinusoidal_table(n_pos: int, d_model: int) -> torch.Tensor:
    """The fixed (n_pos, d_model) table of Vaswani et al.: sin on even dims, cos on odd ones."""
    pos = torch.arange(n_pos, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(n_pos, d_model)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)[:, :d_model // 2]  # an odd d_model has one fewer cos column
    return table


class TransformerNet(nn.Module):
    def __init__(self, *, n_pos: int, n_out: int, vocab_size: int | None = None, n_features: int | None = None,
                 d_model: int = 64, heads: int = 4, layers: int = 2, ff: int = 128, dropout: float = 0.1,
                 positional: str = "sinusoidal", pooling: str = "mean"):
        super().__init__()
        self.text = vocab_size is not None
        self.pooling = pooling
        self.positional = positional
        self.d_model = d_model
        n_pos = n_pos + (pooling == "cls")  # the cls position has its own positional slot
        self.n_pos = n_pos
        if self.text:
            self.embed = nn.Embedding(vocab_size, d_model, padding_idx=PAD)
        else:
            self.embed = nn.Linear(n_features, d_model)
            if pooling == "cls":
                self.cls = nn.Parameter(torch.randn(1, 1, d_model) * 0.02)
        if positional == "learned":
            self.pos = nn.Parameter(torch.randn(1, n_pos, d_model) * 0.02)
        elif positional == "sinusoidal":
            # Not persistent: it is a fixed function of the shape, so it stays out of the weights file.
            self.register_buffer("pos", sinusoidal_table(n_pos, d_model)[None], persistent=False)
        else:
            self.pos = None
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, heads, ff, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        # Pre-norm layers leave the residual stream unnormalised; the final norm fixes its scale.
        # Nested tensors only speed up inference on long padded batches, and warn with norm_first.
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.head = nn.Linear(d_model, n_out)

    def _embed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Inputs -> (batch, L', d_model) and the padding mask (True = padding), None for floats."""
        if self.text:
            ids = x.long()
            if self.pooling == "cls":
                ids = torch.cat([ids.new_full((ids.shape[0], 1), CLS), ids], dim=1)
            # Scaled as in Vaswani et al., so the token signal is not drowned by the positions.
            return self.embed(ids) * math.sqrt(self.d_model), ids == PAD
        h = self.embed(x.float())
        if self.pooling == "cls":
            h = torch.cat([self.cls.expand(h.shape[0], -1, -1), h], dim=1)
        return h, None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, pad = self._embed(x)
        length = h.shape[1]
        if self.pos is not None:
            if length > self.n_pos:
                raise ValueError(f"sequence of {length} positions, but the model was built for at most {self.n_pos}")
            h = h + self.pos[:, :length]
        h = self.drop(h)
        attn_mask = None
        if pad is not None:
            # A row that is all padding (an empty text) would mask every key, and softmax over
            # nothing is NaN. Such rows may attend to their first position instead; pooling below
            # still ignores it, so the row pools to zeros.
            empty = pad.all(dim=1)
            attn_mask = pad.clone()
            attn_mask[:, 0] &= ~empty
        h = self.encoder(h, src_key_padding_mask=attn_mask)
        if self.pooling == "cls":
            pooled = h[:, 0]
        elif pad is None:
            pooled = h.mean(dim=1)
        else:
            keep = (~pad).unsqueeze(-1).to(h.dtype)
            pooled = (h * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1.0)
        return self.head(pooled)


def build_transformer(cfg, spec, n_out: int) -> TransformerNet:
    shape = list(spec.input_shape or [spec.n_features])
    common = dict(n_out=n_out, d_model=cfg.d_model, heads=cfg.heads, layers=cfg.layers, ff=cfg.ff,
                  dropout=cfg.dropout, positional=cfg.positional, pooling=cfg.pooling)
    if spec.kind == "text":
        if not spec.vocab_size:
            raise UserError("model.type transformer: text data without a vocabulary size (spec.vocab_size)")
        return TransformerNet(n_pos=shape[0], vocab_size=spec.vocab_size, **common)
    if spec.kind in SEQUENCE_KINDS and len(shape) == 2:
        return TransformerNet(n_pos=shape[0], n_features=shape[1], **common)
    raise UserError(f"model.type transformer: needs text (data.text.column) or sequence data of shape "
                    f"[steps, features] (data.series, or a 3-D .npz); got {spec.kind} data of shape {shape}. "
                    "Use model.type mlp for tables")
