"""Recurrent networks for sequences (N, T, F): an RNN, LSTM or GRU, then a dense head.

The sequence is summarised by the final hidden state of the top layer. Bidirectional: the forward
direction's state after the last step joined with the backward direction's state after the first
step (both have then read the whole sequence; the backward output at the last step has read one).
"""

from __future__ import annotations

from torch import nn

from ..errors import UserError

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RNN(nn.Module):
    def __init__(self, n_in: int, n_out: int, cell: str = "lstm", hidden_size: int = 64, layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, head: list[int] | None = None):
        super().__init__()
        self.cell = cell
        self.directions = 2 if bidirectional else 1
        # PyTorch applies dropout between stacked layers only; with one layer it would only warn.
        self.rnn = CELLS[cell](n_in, hidden_size, num_layers=layers, batch_first=True,
                               bidirectional=bidirectional, dropout=dropout if layers > 1 else 0.0)
        width = hidden_size * self.directions
        layers_: list[nn.Module] = []
        for h in head or []:
            layers_ += [nn.Linear(width, h), nn.ReLU()]
            if dropout > 0:
                layers_.append(nn.Dropout(dropout))
            width = h
        self.body = nn.Sequential(*layers_)
        self.head = nn.Linear(width, n_out)  # raw outputs; the loss decides what they mean

    def forward(self, x):
        if x.dim() == 2:
            x = x.unsqueeze(-1)  # (N, T) -> (N, T, 1)
        _, h = self.rnn(x)
        if self.cell == "lstm":
            h = h[0]  # (h_n, c_n): the hidden state, not the cell memory
        # h: (layers * directions, N, hidden); the top layer's states are the last `directions`.
        last = h[-1] if self.directions == 1 else h[-2:].transpose(0, 1).reshape(x.shape[0], -1)
        return self.head(self.body(last))


def build_rnn(cfg, spec, n_out: int) -> RNN:
    shape = spec.input_shape or []
    if spec.kind == "text":  # token ids, not steps of features: the other families' advice would loop
        raise UserError("model.type: rnn reads sequences (N, T, F), not token ids; use model.type: transformer "
                        "for text")
    if spec.kind not in ("timeseries", "sequence") or len(shape) != 2:
        raise UserError(f"model.type: rnn reads sequences (N, T, F), but this data is {spec.kind} with samples "
                        f"of shape {shape}; use data.series for a time series, a 3-D .npz for sequences, "
                        "or model.type: mlp")
    return RNN(shape[-1], n_out, cfg.cell, cfg.hidden_size, cfg.layers, cfg.bidirectional, cfg.dropout,
               list(cfg.head))
