"""The multilayer perceptron: Linear -> [BatchNorm] -> activation -> [Dropout], then a linear head."""

from __future__ import annotations

from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01), "elu": nn.ELU, "gelu": nn.GELU,
    "selu": nn.SELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
}


class MLP(nn.Module):
    # forward() does not read self.training: its modules alone decide whether train/eval mode matters
    # (doctor.signals.mode_free). Drop this if forward ever does.
    mode_free_forward = True

    def __init__(self, n_in: int, hidden: list[int], n_out: int, activation: str = "relu",
                 dropout: float = 0.0, batch_norm: bool = False):
        super().__init__()
        layers: list[nn.Module] = []
        width = n_in
        for h in hidden:
            layers.append(nn.Linear(width, h, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                # SELU's self-normalisation needs the dropout that keeps mean and variance.
                layers.append(nn.AlphaDropout(dropout) if activation == "selu" else nn.Dropout(dropout))
            width = h
        self.body = nn.Sequential(*layers)
        # The head emits raw scores (logits); the loss and predict() add softmax/sigmoid,
        # so a config can never apply one twice.
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        return self.head(self.body(x))


def build_mlp(cfg, spec, n_out: int) -> nn.Module:
    from ..errors import UserError

    if spec.kind == "text":
        raise UserError("model.type: mlp cannot read token ids; use model.type: transformer for text")
    shape = spec.input_shape or [spec.n_features]
    n_in = 1
    for d in shape:
        n_in *= d
    mlp = MLP(n_in, cfg.hidden, n_out, cfg.activation, cfg.dropout, cfg.batch_norm)
    if len(shape) > 1:
        # Images and windows of a series are flattened: the MLP sees every value as a feature.
        mlp.body.insert(0, nn.Flatten())
    return mlp
