"""model.type: python — the user's own module, with everything else working as usual."""

import sys
import textwrap

import pytest

import trainwell


@pytest.fixture
def builder_dir(tmp_path, monkeypatch):
    (tmp_path / "my_nets.py").write_text(textwrap.dedent('''
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self, n_in, n_out, width):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(n_in, width), nn.Tanh())
                self.head = nn.Linear(width, n_out)

            def forward(self, x):
                return self.head(self.body(x))

        def make(spec, width=16):
            return Net(spec.n_features, len(spec.classes), width)

        def wrong_shape(spec):
            return nn.Linear(spec.n_features, 7)

        def not_a_module(spec):
            return "nope"

        def crashes(spec):
            return nn.Linear(3, 3)

        class Tied(nn.Module):
            # one layer used twice (weight tying, as language models tie their embeddings)
            def __init__(self, n_in, n_out, width):
                super().__init__()
                self.stem = nn.Linear(n_in, width)
                shared = nn.Linear(width, width)
                self.blocks = nn.ModuleList([shared, shared])
                self.head = nn.Linear(width, n_out)

            def forward(self, x):
                h = torch.tanh(self.stem(x))
                for block in self.blocks:
                    h = torch.tanh(block(h))
                return self.head(h)

        def tied(spec, width=8):
            return Tied(spec.n_features, len(spec.classes), width)

        def drawn_large(spec, width=16):
            net = Net(spec.n_features, len(spec.classes), width)
            for p in net.parameters():
                nn.init.normal_(p)        # std 1: the builder's own init
            return net
    '''))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("my_nets", None)


def cfg(tiny_cfg, builder, **options):
    c = dict(tiny_cfg)
    c["model"] = {"type": "python", "builder": builder, "options": options}
    return c


def test_custom_builder_trains_with_the_usual_pipeline(builder_dir, tiny_cfg):
    run = trainwell.train(cfg(tiny_cfg, "my_nets:make", width=8), out=builder_dir / "r")
    assert run.metrics["test"]["accuracy"] > 0.5
    assert run.info["parameters"] == (4 * 8 + 8) + (8 * 3 + 3)  # 4 inputs: a, b, color one-hot x2
    assert len(run.predict(builder_dir / "blobs.csv")) == 240


def test_a_network_with_tied_weights_saves_loads_and_predicts(builder_dir, tiny_cfg):
    import torch

    run = trainwell.train(cfg(tiny_cfg, "my_nets:tied"), out=builder_dir / "r")
    again = trainwell.load_run(builder_dir / "r")  # from the files, as `trainwell predict` does
    model = again.model()
    assert model.blocks[0] is model.blocks[1]  # still one layer
    assert torch.equal(model.blocks[0].weight, run.model().blocks[0].weight)
    assert not torch.equal(model.blocks[0].weight, torch.zeros_like(model.blocks[0].weight))
    assert len(again.predict(builder_dir / "blobs.csv")) == 240
    assert again.metrics["test"]["accuracy"] > 0.5


@pytest.mark.parametrize("builder,needle", [
    ("no_such_module:make", "cannot import 'no_such_module'"),
    ("my_nets:missing", "has no function 'missing'"),
    ("my_nets", "package.module:function"),
    ("my_nets:wrong_shape", "must output (batch, 3)"),
    ("my_nets:not_a_module", "must return a torch.nn.Module"),
    ("my_nets:crashes", "failed on an input of shape (2, 4)"),
])
def test_builder_errors_are_clear(builder_dir, tiny_cfg, builder, needle):
    with pytest.raises(trainwell.UserError, match="model.builder") as exc:
        trainwell.train(cfg(tiny_cfg, builder), out=builder_dir / "r")
    assert needle in str(exc.value)
    assert not (builder_dir / "r").exists()


def test_unknown_builder_option_is_clear(builder_dir, tiny_cfg):
    with pytest.raises(trainwell.UserError, match="unexpected keyword"):
        trainwell.train(cfg(tiny_cfg, "my_nets:make", depth=3), out=builder_dir / "r")


def test_init_pytorch_redraws_a_custom_builders_own_init(builder_dir):
    from trainwell.config import load_config
    from trainwell.data import DataSpec
    from trainwell.models import build

    spec = DataSpec(task="multiclass", target="y", input_columns=["a"], column_types={"a": "numeric"},
                    feature_names=[f"f{i}" for i in range(64)], n_features=64, classes=[0, 1, 2], n_outputs=3)

    def first(init):
        cfg = load_config({"model": {"type": "python", "builder": "my_nets:drawn_large", "init": {"weight": init}}})
        return build(cfg.model, spec, 3, seed=0).body[0]

    kept = first("auto")               # auto keeps what the builder drew
    assert kept.weight.std() > 0.5 and kept.bias.std() > 0.5
    redrawn = first("pytorch")         # PyTorch's own: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), weights and biases
    bound = 1 / 64 ** 0.5
    assert redrawn.weight.abs().max() <= bound + 1e-6 and redrawn.bias.abs().max() <= bound + 1e-6


def test_init_pytorch_reaches_a_bare_layer_and_attention_but_not_a_custom_layers_own_reset():
    import torch
    from torch import nn

    from trainwell.models.init import _pytorch_init

    bare = nn.Linear(64, 8)
    nn.init.normal_(bare.weight)
    attention = nn.MultiheadAttention(16, 2)
    nn.init.normal_(attention.in_proj_weight)

    class Scaled(nn.Module):          # a custom layer whose own reset_parameters is the custom init
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(4, 4))
            self.reset_parameters()

        def reset_parameters(self, gain=3.0):
            nn.init.constant_(self.w, gain)

    custom = Scaled()
    for m in (bare, attention, custom):
        _pytorch_init(m)
    assert bare.weight.abs().max() <= 1 / 8 + 1e-6
    assert attention.in_proj_weight.abs().max() < 0.5         # Xavier over (48, 16), not N(0, 1)
    assert torch.all(custom.w == 3.0)                        # left to its own class


def test_builder_that_raises_on_its_options_is_exit_2(builder_dir, tiny_cfg, write_yaml, cli):
    """A negative width makes torch raise inside the builder: a bad model.options value, not a crash."""
    code, _, err = cli("train", write_yaml(cfg(tiny_cfg, "my_nets:make", width=-1)), "--out", builder_dir / "r", "-q")
    assert code == 2, err
    assert "Traceback" not in err and "model.builder" in err and "RuntimeError" in err and "width" in err
    assert not (builder_dir / "r").exists()


def test_the_runs_files_are_readable_as_files_opened_the_usual_way(builder_dir, tiny_cfg):
    # review: mkstemp made model.safetensors, run.json and the checkpoints 0600
    import os
    import stat

    run = trainwell.train(cfg(tiny_cfg, "my_nets:make"), out=builder_dir / "r")
    usual = builder_dir / "usual.txt"
    usual.write_text("x")
    want = stat.S_IMODE(os.stat(usual).st_mode)
    for name in ("model.safetensors", "run.json", "checkpoints/last.safetensors"):
        assert stat.S_IMODE(os.stat(run.path / name).st_mode) == want, name
