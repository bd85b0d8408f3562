"""The custom network of the eleventh held-out set (heldout11.yaml), for model.type: python.

A Keras-style MLP: Dense layers with ReLU, then an output layer with an optional activation, the
way `Dense(1, activation="relu")` ends a Keras regression model whose target "cannot be negative".
Built as `model: {type: python, builder: "benchmarks.doctor.h11_models:keras_mlp", options: {...}}`;
trainwell searches the working directory, so run the suite from the repository root.
"""

from __future__ import annotations

from torch import nn

OUTPUT_ACTIVATIONS = {None: None, "none": None, "linear": None, "relu": nn.ReLU, "softplus": nn.Softplus,
                      "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def keras_mlp(spec, hidden=(64, 64), output_activation=None):
    n_in = 1
    for d in (spec.input_shape or [spec.n_features]):
        n_in *= d
    layers: list[nn.Module] = [nn.Flatten()]
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    # trainwell's binary loss (bce) reads one logit; spec.n_outputs counts the two classes.
    n_out = 1 if spec.task == "binary" else spec.n_outputs
    layers.append(nn.Linear(width, n_out))
    act = OUTPUT_ACTIVATIONS[output_activation]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)
