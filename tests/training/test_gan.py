"""The GAN loop: alternating updates, the run directory it writes, and Ctrl-C + resume."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

import trainwell
from trainwell.config import load_config
from trainwell.data import prepare
from trainwell.errors import TrainingInterrupted, UserError
from trainwell.training.gan import GANTrainer, generate, load_generator, train_gan
from trainwell.training.loop import Callback
from trainwell.training.optim import Schedule, build_optimizer

CFG = {
    "name": "gan",
    "seed": 5,
    # 90 training images: 6 batches of 16 per epoch.
    "data": {"source": "builtin:digits", "train_fraction": 0.07},
    "model": {"type": "gan", "arch": "mlp", "latent": 8, "generator": [32], "discriminator": [32],
              "d_steps": 2, "sample_every": 2},
    "optimizer": {"name": "adam", "lr": 0.001, "betas": [0.5, 0.999]},
    "schedule": {"name": "cosine", "warmup_epochs": 1},
    "training": {"epochs": 3, "batch_size": 16, "checkpoint_interval": 0},
}
LOG_KEYS = {"epoch", "lr", "d_loss", "g_loss", "d_real", "d_fake", "seconds"}


def _setup(cfg_dict=CFG):
    cfg = load_config(cfg_dict)
    return cfg, prepare(cfg.data, cfg.seed, "gan")


def _train(tmp_path, name, cfg_dict=CFG, resume=False, callbacks=None):
    cfg, prepared = _setup(cfg_dict)
    run_dir = tmp_path / name
    run_dir.mkdir(exist_ok=True)
    return train_gan(cfg=cfg, prepared=prepared, run_dir=run_dir, log=lambda msg: None,
                     device=torch.device("cpu"), progress=False, resume=resume, extra_callbacks=callbacks)


def _history(path):
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
            for line in path.read_text().splitlines()]


def test_the_fixture_follows_the_image_contract():
    _, prepared = _setup()
    assert prepared.train.x.dtype == np.float32 and prepared.train.x.shape[1:] == (1, 8, 8)
    assert set(prepared.state["image"]) >= {"mean", "std"}


def test_one_alternating_step_changes_both_networks():
    from trainwell.models.gan import build_gan, data_bounds

    cfg, prepared = _setup()
    x = torch.as_tensor(prepared.train.x)
    g, d = build_gan(cfg.model, prepared.spec, bounds=data_bounds(x), seed=0)
    before = [{k: v.clone() for k, v in net.state_dict().items()} for net in (g, d)]
    trainer = GANTrainer(generator=g, discriminator=d, opt_g=build_optimizer(cfg.optimizer, g),
                         opt_d=build_optimizer(cfg.optimizer, d), schedule=Schedule(cfg.schedule), x=x,
                         epochs=1, batch_size=len(x), latent=cfg.model.latent, d_steps=1,
                         shuffle_rng=torch.Generator().manual_seed(0), noise_rng=torch.Generator().manual_seed(1))
    trainer.schedule = Schedule(load_config({}).schedule)  # constant lr: one step must move the weights
    trainer.schedule.bind(1, 1, cfg.optimizer.lr)
    logs = trainer.fit()[0]
    assert np.isfinite(logs["d_loss"]) and np.isfinite(logs["g_loss"])
    assert 0 < logs["d_real"] < 1 and 0 < logs["d_fake"] < 1
    for net, old in zip((g, d), before):
        changed = [k for k, v in net.state_dict().items() if v.is_floating_point() and not torch.equal(v, old[k])]
        assert any(k.endswith("weight") for k in changed), type(net).__name__


def test_train_gan_writes_the_run_directory(tmp_path):
    info = _train(tmp_path, "run")
    run = tmp_path / "run"
    lines = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert len(lines) == 3 and all(set(h) == LOG_KEYS for h in lines)
    assert all(np.isfinite(h["d_loss"]) and np.isfinite(h["g_loss"]) for h in lines)
    assert info["epochs_run"] == 3 and info["stop_reason"] == "completed 3 epochs"
    assert info["samples"] == ["samples/epoch_0002.png", "samples/final.png"]
    assert info["parameters"]["generator"] > 0 and info["parameters"]["discriminator"] > 0
    img = np.asarray(Image.open(run / "samples" / "final.png"))
    assert img.ndim == 2 and img.std() > 10  # not blank
    weights = load_file(str(run / "model.safetensors"))
    assert any(k.startswith("generator.") for k in weights) and any(k.startswith("discriminator.") for k in weights)
    assert all(k.startswith(("generator.", "discriminator.")) for k in weights)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["val"] == {} and metrics["test"] == {} and 0 < metrics["train"]["d_real"] < 1
    assert (run / "checkpoints" / "last.safetensors").is_file()


def test_settings_a_gan_cannot_honour_are_refused(tmp_path):
    bad = {**CFG, "schedule": {"name": "reduce_on_plateau"}}
    with pytest.raises(UserError, match="reduce_on_plateau"):
        _train(tmp_path, "bad", bad)


class _CtrlCAt(Callback):
    """Sends a real SIGINT to this process after `step` generator updates."""

    def __init__(self, step):
        self.step = step

    def on_batch_end(self, trainer, loss):
        if trainer.pos.step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("where", ["mid-epoch", "epoch-end"])
def test_ctrl_c_then_resume_matches_an_unbroken_run(tmp_path, where):
    _, prepared = _setup()
    per_epoch = -(-len(prepared.train.x) // CFG["training"]["batch_size"])
    step = per_epoch + 2 if where == "mid-epoch" else 2 * per_epoch
    _train(tmp_path, "unbroken")
    with pytest.raises(TrainingInterrupted):
        _train(tmp_path, "broken", callbacks=[_CtrlCAt(step)])
    broken = tmp_path / "broken"
    assert len(_history(broken / "history.jsonl")) == step // per_epoch
    assert not (broken / "model.safetensors").exists()
    _train(tmp_path, "broken", resume=True)
    assert _history(broken / "history.jsonl") == _history(tmp_path / "unbroken" / "history.jsonl")
    a, b = load_file(str(broken / "model.safetensors")), load_file(str(tmp_path / "unbroken" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    grid_a = np.asarray(Image.open(broken / "samples" / "final.png"))
    assert np.array_equal(grid_a, np.asarray(Image.open(tmp_path / "unbroken" / "samples" / "final.png")))


def test_cli_ctrl_c_exits_130_and_resume_matches(tmp_path, write_yaml):
    cfg = {**CFG, "training": {**CFG["training"], "epochs": 40, "checkpoint_interval": 5}}
    path = write_yaml(cfg)
    unbroken = trainwell.train(path, out=tmp_path / "unbroken")
    assert unbroken.info["status"] == "completed" and unbroken.info["epochs_run"] == 40

    run = tmp_path / "broken"
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "trainwell", "train", str(path), "--out", str(run), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    history = run / "history.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if history.exists() and len(history.read_text().splitlines()) >= 2:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    assert len(history.read_text().splitlines()) < 40, "the run finished before the interrupt; make it longer"

    resumed = subprocess.run([sys.executable, "-m", "trainwell", "train", "--resume", str(run), "-q"],
                             capture_output=True, text=True, timeout=300, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip().splitlines()[-1] == str(run)
    assert _history(history) == _history(unbroken.path / "history.jsonl")
    a, b = load_file(str(run / "model.safetensors")), load_file(str(unbroken.path / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((run / "run.json").read_text())["status"] == "completed"


def test_generate_from_a_run_directory_alone(tmp_path):
    run = trainwell.train(CFG, out=tmp_path / "run")
    assert run.info["task"] == "generation" and run.info["samples"][-1] == "samples/final.png"
    g, state = load_generator(run.path)
    assert not g.training and state["kind"] == "image"
    images = generate(run.path, 7, seed=1)
    assert images.shape == (7, 1, 8, 8) and np.isfinite(images).all()
    assert np.array_equal(images, generate(run.path, 7, seed=1))
    # de-normalized: the digits' own pixel range 0..16 (plus the 2% margin of the output range)
    assert images.min() >= -0.5 and images.max() <= 16.5


def test_predict_and_evaluate_on_a_gan_run_are_clear_errors(tmp_path, cli):
    import trainwell

    run = trainwell.train({"data": {"source": "builtin:digits", "split": {"train": 1.0, "val": 0.0, "test": 0.0}},
                           "model": {"type": "gan", "generator": [32], "discriminator": [32], "sample_every": 1},
                           "training": {"epochs": 1, "batch_size": 256, "threads": 1}}, out=tmp_path / "gan")
    assert (run.path / "samples" / "final.png").is_file()
    code, _, err = cli("predict", run.path, tmp_path / "x.csv", "-o", tmp_path / "y.csv")
    assert code == 2 and "generation" in err
    code, _, err = cli("evaluate", run.path)
    assert code == 2 and "generation" in err
