"""The GAN loop: a generator and a discriminator trained against each other.

A loop of its own rather than a mode of training/loop.py: two networks, two optimizers and
two losses per batch do not fit the one-model Trainer, and bending it for them would cost the
common case. It keeps the Trainer's habits: batches by index from device-resident tensors, the
same events for the same callbacks (HistoryWriter, Progress), Ctrl-C as a flag that saves the
state at the end of the current batch, and a resume that lands on that batch and continues
exactly as an unbroken run would.

Per batch of real images: model.d_steps discriminator updates (BCE with logits, real images
against model.real_label (one-sided label smoothing), generated ones against 0), each with fresh
noise and the same real batch, then one generator update with the non-saturating loss (BCE of
D(G(z)) against 1). A generation run has no validation, test metrics or predict.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import TrainingInterrupted, UserError
from .loop import Callback, sigint_as_flag

GRID = 64            # samples in a grid (8 x 8)
GRID_SCALE = 4       # each image pixel drawn as GRID_SCALE x GRID_SCALE screen pixels


@dataclass
class GANPosition:
    """Where the loop is: `batch` > 0 means Ctrl-C struck inside `epoch` after that many batches."""
    epoch: int = 0          # epochs completed
    batch: int = 0
    step: int = 0           # generator updates taken in total (the schedule's clock)
    seen: int = 0
    seconds: float = 0.0
    perm: torch.Tensor | None = None
    noise: torch.Tensor | None = None   # this epoch's noise, (d_steps + 1, n, latent)
    sums: torch.Tensor | None = None    # running row-weighted sums of d_loss, g_loss, d_real, d_fake


@dataclass
class GANTrainer:
    generator: torch.nn.Module
    discriminator: torch.nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    schedule: object
    x: torch.Tensor
    epochs: int
    batch_size: int
    latent: int
    d_steps: int = 1
    real_label: float = 0.9
    shuffle: bool = True
    clip_grad_norm: float | None = None
    clip_grad_value: float | None = None
    shuffle_rng: torch.Generator | None = None
    noise_rng: torch.Generator | None = None
    callbacks: list = field(default_factory=list)
    checkpoint: object = None        # callable(trainer) that saves state; used on Ctrl-C
    history: list = field(default_factory=list)
    pos: GANPosition = field(default_factory=GANPosition)
    stop_reason: str | None = None
    should_stop: bool = False

    def __post_init__(self):
        self.n = self.x.shape[0]
        self.batch_size = max(1, min(self.batch_size, self.n))
        # As in loop.Trainer: the last batch takes the remainder, so none holds a single row.
        self.batches_per_epoch = max(1, self.n // self.batch_size) if self.n % self.batch_size == 1 \
            else math.ceil(self.n / self.batch_size)
        self._interrupted = False
        self._base_g = [g["lr"] for g in self.opt_g.param_groups]
        self._base_d = [g["lr"] for g in self.opt_d.param_groups]
        self.schedule.bind(self.batches_per_epoch, self.epochs, self._base_g[0])
        self._batch_listeners = [cb.on_batch_end for cb in self.callbacks
                                 if type(cb).on_batch_end is not Callback.on_batch_end]

    @property
    def lr(self) -> float:
        return self.opt_g.param_groups[0]["lr"]

    # ------------------------------------------------------------------ public
    def fit(self) -> list[dict]:
        with sigint_as_flag(self):
            self._emit("on_fit_start")
            while self.pos.epoch < self.epochs and not self.should_stop:
                logs = self._run_epoch()
                if logs is None:  # interrupted inside the epoch; state is on disk
                    raise TrainingInterrupted("", self._interrupted)
                self.history.append(logs)
                self._emit("on_epoch_end", logs)
                if self._interrupted:
                    if self.checkpoint is not None:
                        self.checkpoint(self)
                    raise TrainingInterrupted("", self._interrupted)
            if not self.stop_reason:
                self.stop_reason = f"completed {self.epochs} epochs"
            self._emit("on_fit_end")
        return self.history

    # ------------------------------------------------------------------ the epoch
    def _step(self, net, opt, loss) -> None:
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.clip_grad_norm:
            torch.nn.utils.clip_grad_norm_(net.parameters(), self.clip_grad_norm)
        if self.clip_grad_value:
            torch.nn.utils.clip_grad_value_(net.parameters(), self.clip_grad_value)
        opt.step()

    def _run_epoch(self) -> dict | None:
        p, x, G, D = self.pos, self.x, self.generator, self.discriminator
        if p.batch == 0:
            self._emit("on_epoch_start")
            p.perm = (torch.randperm(self.n, generator=self.shuffle_rng) if self.shuffle
                      else torch.arange(self.n)).to(x.device)
            # One draw per epoch instead of one per batch (and one host-to-device copy).
            p.noise = torch.randn(self.d_steps + 1, self.n, self.latent, generator=self.noise_rng).to(x.device)
            # float64 on the device: no sync point per batch, and a resumed epoch adds in the
            # same order and precision as an unbroken one.
            p.sums = torch.zeros(4, dtype=torch.float64, device=x.device)
            p.seen, p.seconds = 0, 0.0
        started = time.perf_counter()
        G.train()
        D.train()
        constant_lr = self.schedule.is_constant
        bs, last = self.batch_size, self.batches_per_epoch - 1
        for b in range(p.batch, self.batches_per_epoch):
            lo, hi = b * bs, (self.n if b == last else (b + 1) * bs)
            real = x[p.perm[lo:hi]]
            rows = hi - lo
            if not constant_lr:
                f = self.schedule.factor(p.step)
                for opt, bases in ((self.opt_g, self._base_g), (self.opt_d, self._base_d)):
                    for g, base in zip(opt.param_groups, bases):
                        g["lr"] = base * f
            d_total = 0.0
            for k in range(self.d_steps):
                with torch.no_grad():
                    fake = G(p.noise[k, lo:hi])
                real_logit, fake_logit = D(real), D(fake)
                d_loss = (F.binary_cross_entropy_with_logits(real_logit, torch.full_like(real_logit, self.real_label))
                          + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit)))
                self._step(D, self.opt_d, d_loss)
                d_total = d_total + d_loss.detach()
            # The generator's loss flows through D; D's gradients from it are cleared by D's
            # next zero_grad and never stepped.
            fake_logit_g = D(G(p.noise[self.d_steps, lo:hi]))
            g_loss = F.binary_cross_entropy_with_logits(fake_logit_g, torch.ones_like(fake_logit_g))
            self._step(G, self.opt_g, g_loss)
            p.step += 1
            stats = torch.stack([d_total / self.d_steps, g_loss.detach(),
                                 torch.sigmoid(real_logit.detach()).mean(), torch.sigmoid(fake_logit.detach()).mean()])
            p.sums += stats.double() * rows
            p.seen += rows
            for listener in self._batch_listeners:
                listener(self, g_loss)
            if self._interrupted and b + 1 < self.batches_per_epoch:
                p.batch = b + 1
                p.seconds += time.perf_counter() - started
                if self.checkpoint is not None:
                    self.checkpoint(self)
                return None
        means = (p.sums / max(p.seen, 1)).tolist()
        logs = {"epoch": p.epoch + 1, "lr": self.lr, "d_loss": means[0], "g_loss": means[1],
                "d_real": means[2], "d_fake": means[3]}
        p.seconds += time.perf_counter() - started
        logs["seconds"] = round(p.seconds, 4)
        p.epoch += 1
        p.batch = 0
        p.perm = p.noise = p.sums = None
        bad = [k for k in ("d_loss", "g_loss") if not math.isfinite(logs[k])]
        if bad:
            self.should_stop = True
            self.stop_reason = f"{' and '.join(bad)} became non-finite in epoch {p.epoch}"
        return logs

    # ------------------------------------------------------------------ state
    def state(self) -> tuple[dict, dict]:
        from .checkpoint import flatten_optimizer, prefixed

        p = self.pos
        tensors = {**prefixed("generator.", self.generator.state_dict()),
                   **prefixed("discriminator.", self.discriminator.state_dict())}
        meta = {}
        for name, opt in (("g", self.opt_g), ("d", self.opt_d)):
            opt_t, meta[f"optimizer_{name}"] = flatten_optimizer(opt)
            tensors.update(prefixed(f"{name}.", opt_t))
        tensors["rng.torch"] = torch.get_rng_state()
        for name, rng in (("shuffle", self.shuffle_rng), ("noise", self.noise_rng)):
            if rng is not None:
                tensors[f"rng.{name}"] = rng.get_state()
        if torch.cuda.is_available():
            tensors["rng.cuda"] = torch.cuda.get_rng_state()
        for name in ("perm", "noise", "sums"):
            if getattr(p, name) is not None:
                tensors[f"pos.{name}"] = getattr(p, name)
        meta.update({
            "pos": {"epoch": p.epoch, "batch": p.batch, "step": p.step, "seen": p.seen, "seconds": p.seconds},
            "schedule": self.schedule.state_dict(),
            "base_lrs": {"g": self._base_g, "d": self._base_d},
            "history": self.history,
            "stop_reason": self.stop_reason,
        })
        return tensors, meta

    def load_state(self, tensors: dict, meta: dict) -> None:
        from .checkpoint import restore_optimizer, strip

        device = self.x.device
        self.generator.load_state_dict(strip("generator.", tensors))
        self.discriminator.load_state_dict(strip("discriminator.", tensors))
        restore_optimizer(self.opt_g, strip("g.", tensors), meta["optimizer_g"])
        restore_optimizer(self.opt_d, strip("d.", tensors), meta["optimizer_d"])
        self._base_g, self._base_d = list(meta["base_lrs"]["g"]), list(meta["base_lrs"]["d"])
        torch.set_rng_state(tensors["rng.torch"])
        for name, rng in (("shuffle", self.shuffle_rng), ("noise", self.noise_rng)):
            if rng is not None and f"rng.{name}" in tensors:
                rng.set_state(tensors[f"rng.{name}"])
        if "rng.cuda" in tensors and torch.cuda.is_available():
            torch.cuda.set_rng_state(tensors["rng.cuda"])
        self.schedule.load_state_dict(meta["schedule"])
        self.history = list(meta["history"])
        self.stop_reason = meta.get("stop_reason")
        self.pos = GANPosition(**meta["pos"])
        for name in ("perm", "noise", "sums"):
            if f"pos.{name}" in tensors:
                setattr(self.pos, name, tensors[f"pos.{name}"].to(device))

    def _emit(self, event: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, event)(self, *args)


# ----------------------------------------------------------------------------- callbacks
class PeriodicCheckpoint(Callback):
    """checkpoints/last.safetensors at an epoch end once `interval` seconds have passed since the
    last write (0 = every epoch), at the end of fit, and (called directly) on Ctrl-C."""

    def __init__(self, path: Path, interval: float):
        self.path, self.interval = Path(path), interval
        self._last_write = -math.inf

    def __call__(self, trainer) -> None:
        from . import checkpoint

        checkpoint.save(self.path, *trainer.state())
        self._last_write = time.monotonic()

    def on_fit_start(self, trainer):
        self._last_write = time.monotonic()

    def on_epoch_end(self, trainer, logs):
        if time.monotonic() - self._last_write >= self.interval:
            self(trainer)

    def on_fit_end(self, trainer):
        self(trainer)


class SampleGrid(Callback):
    """samples/epoch_NNNN.png every `every` epochs and samples/final.png at the end, all from one
    fixed noise batch so the grids are comparable across epochs (and across a resume)."""

    def __init__(self, folder: Path, noise: torch.Tensor, mean, std, every: int):
        self.folder, self.noise, self.mean, self.std, self.every = Path(folder), noise, mean, std, every

    def write(self, trainer, name: str) -> Path:
        images = sample(trainer.generator, self.noise)
        path = self.folder / name
        save_grid(images, self.mean, self.std, trainer.generator.scale, path)
        return path

    def on_epoch_end(self, trainer, logs):
        if logs["epoch"] % self.every == 0:
            self.write(trainer, f"epoch_{logs['epoch']:04d}.png")

    def on_fit_end(self, trainer):
        self.write(trainer, "final.png")


# ----------------------------------------------------------------------------- images
@torch.no_grad()
def sample(generator, noise: torch.Tensor) -> torch.Tensor:
    """Generated images for the given noise, in eval mode (batch norm's running statistics, so
    a sample does not depend on the rest of its batch), in normalized units, on the CPU."""
    was_training = generator.training
    generator.eval()
    try:
        device = next(generator.parameters()).device
        return generator(noise.to(device)).cpu()
    finally:
        generator.train(was_training)


def to_pixels(images: torch.Tensor, mean, std) -> torch.Tensor:
    """Normalized images (N, C, H, W) back to the data's own pixel units."""
    mean = torch.as_tensor(mean, dtype=images.dtype).reshape(1, -1, 1, 1)
    std = torch.as_tensor(std, dtype=images.dtype).reshape(1, -1, 1, 1)
    return images * std + mean


def save_grid(images: torch.Tensor, mean, std, scale, path: Path) -> None:
    """An 8-column grid PNG of images (N, C, H, W) in normalized units. De-normalized with the
    data's mean/std, then stretched per channel from the generator's output range (the training
    images' range) to 0..255: bright = high pixel values."""
    from PIL import Image

    from .checkpoint import write_atomic

    pixels = to_pixels(images, mean, std)
    lo = to_pixels(scale.out_lo.cpu().reshape(1, -1, 1, 1), mean, std)
    hi = to_pixels(scale.out_hi.cpu().reshape(1, -1, 1, 1), mean, std)
    u8 = ((pixels - lo) / (hi - lo).clamp_min(1e-8)).clamp(0, 1).mul(255).round().to(torch.uint8)
    n, c, h, w = u8.shape
    if c not in (1, 3):
        u8, c = u8.float().mean(1, keepdim=True).to(torch.uint8), 1
    cols = min(8, n)
    rows = math.ceil(n / cols)
    gap = 1
    grid = torch.full((c, rows * (h + gap) + gap, cols * (w + gap) + gap), 128, dtype=torch.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        grid[:, gap + r * (h + gap):gap + r * (h + gap) + h, gap + q * (w + gap):gap + q * (w + gap) + w] = u8[i]
    array = grid[0].numpy() if c == 1 else grid.permute(1, 2, 0).numpy()
    img = Image.fromarray(array, mode="L" if c == 1 else "RGB")
    img = img.resize((img.width * GRID_SCALE, img.height * GRID_SCALE), Image.NEAREST)
    import io

    buf = io.BytesIO()
    img.save(buf, format="PNG")
    write_atomic(path, buf.getvalue())


# ----------------------------------------------------------------------------- the run
def _check(cfg, n_train: int, bs: int) -> None:
    problems = []
    if cfg.schedule.name == "reduce_on_plateau":
        problems.append("schedule.name: reduce_on_plateau watches a validation loss, which a GAN does not "
                        "have; use constant, step, multistep, exponential, cosine or one_cycle")
    if cfg.regularization.l1:
        problems.append(f"regularization.l1: not supported for model.type gan, got {cfg.regularization.l1}; set it to 0")
    if cfg.model.init_from or cfg.model.freeze:
        problems.append("model.init_from / model.freeze: not supported for model.type gan; remove them")
    if n_train < 2:
        problems.append(f"data: a GAN needs at least 2 training images, got {n_train}")
    elif bs < 2:
        problems.append(f"training.batch_size: the generator's batch norm needs batches of at least 2, got {bs}")
    if problems:
        raise UserError("\n".join(problems))


def train_gan(cfg, prepared, run_dir, log, device, progress: bool = False, resume: bool = False,
              extra_callbacks: list | None = None) -> dict:
    """Train cfg.model (a GANModel) on prepared.train.x; write history.jsonl, samples/*.png,
    model.safetensors (keys generator.* and discriminator.*), metrics.json and
    checkpoints/last.safetensors into run_dir. Returns the fields run.json gains.

    extra_callbacks: more loop callbacks (tests use one to send Ctrl-C at a given batch).
    Raises TrainingInterrupted after Ctrl-C, once the state is on disk.
    """

    from ..models import count_parameters
    from ..models.gan import build_gan, data_bounds
    from . import callbacks as cbs
    from . import checkpoint
    from .optim import Schedule, build_optimizer

    run_dir = Path(run_dir)
    model = cfg.model
    x = torch.as_tensor(prepared.train.x, dtype=torch.float32, device=device)
    n = x.shape[0]
    bs = n if cfg.training.batch_size == "full" else min(cfg.training.batch_size, n)
    _check(cfg, n, bs)
    image = prepared.state.get("image") or {}
    channels = x.shape[1] if x.dim() == 4 else 1
    mean, std = image.get("mean", [0.0] * channels), image.get("std", [1.0] * channels)

    bounds = data_bounds(x)
    G, D = build_gan(model, prepared.spec, bounds=(bounds[0].cpu(), bounds[1].cpu()), seed=cfg.seed)
    G, D = G.to(device), D.to(device)
    opt_g, opt_d = build_optimizer(cfg.optimizer, G), build_optimizer(cfg.optimizer, D)
    # Noise for the sample grids: its own seeded generator, drawn once, so every grid shows the
    # same 64 points of latent space and drawing it moves no other random stream.
    fixed = torch.randn(GRID, model.latent, generator=torch.Generator().manual_seed(cfg.seed + 3))

    callbacks: list = [cbs.HistoryWriter(run_dir / "history.jsonl"),
                       SampleGrid(run_dir / "samples", fixed, mean, std, model.sample_every)]
    bar = cbs.Progress(cfg.training.epochs, ["d_loss", "g_loss", "d_real", "d_fake"]) if progress else None
    if bar:
        callbacks.append(bar)
    callbacks += list(extra_callbacks or [])
    ckpt = PeriodicCheckpoint(run_dir / "checkpoints" / "last.safetensors", cfg.training.checkpoint_interval)
    callbacks.append(ckpt)

    trainer = GANTrainer(
        generator=G, discriminator=D, opt_g=opt_g, opt_d=opt_d, schedule=Schedule(cfg.schedule), x=x,
        epochs=cfg.training.epochs, batch_size=bs, latent=model.latent, d_steps=model.d_steps,
        real_label=model.real_label, shuffle=cfg.training.shuffle,
        clip_grad_norm=cfg.regularization.clip_grad_norm, clip_grad_value=cfg.regularization.clip_grad_value,
        shuffle_rng=torch.Generator().manual_seed(cfg.seed + 1),
        noise_rng=torch.Generator().manual_seed(cfg.seed + 2),
        callbacks=callbacks, checkpoint=ckpt)
    if resume:
        tensors, meta = checkpoint.unpack(run_dir / "checkpoints" / "last.safetensors")
        trainer.load_state(tensors, meta)
        log(f"resuming at epoch {trainer.pos.epoch + 1}, batch {trainer.pos.batch}")
    params = {"generator": count_parameters(G), "discriminator": count_parameters(D)}
    log(f"model: gan {model.arch} latent {model.latent}, generator {model.generator} ({params['generator']:,} "
        f"parameters), discriminator {model.discriminator} ({params['discriminator']:,}), d_steps {model.d_steps}, "
        f"optimizer {cfg.optimizer.name} lr {cfg.optimizer.lr:g} betas {list(cfg.optimizer.betas)}, device {device}")
    if cfg.data.augment.model_dump() != type(cfg.data.augment)().model_dump():
        log("note: data.augment is not applied to GAN training (it would have to augment the fakes too)")

    try:
        trainer.fit()
    except TrainingInterrupted:
        log(f"interrupted at epoch {trainer.pos.epoch + 1}, batch {trainer.pos.batch}; state saved")
        raise
    finally:
        if bar:
            bar.close()
    log(f"stopped: {trainer.stop_reason}")

    weights = {**{f"generator.{k}": v for k, v in G.state_dict().items()},
               **{f"discriminator.{k}": v for k, v in D.state_dict().items()}}
    checkpoint.save_weights(run_dir / "model.safetensors", weights)

    # Cheap, honest numbers: the last epoch's losses and D outputs, and how 1,000 generated
    # images compare with the training images in pixel units (mean, std). No val/test: a GAN
    # has no held-out score that means as much; judge by the sample grids (or benchmarks/gan_quality.py).
    last = trainer.history[-1] if trainer.history else {}
    generated = to_pixels(sample(G, torch.randn(1000, model.latent, generator=torch.Generator().manual_seed(cfg.seed + 4))),
                          mean, std)
    real = to_pixels(x.cpu(), mean, std)
    from ..runs import write_json

    write_json(run_dir / "metrics.json", {
        "val": {}, "test": {},
        "train": {k: last[k] for k in ("d_loss", "g_loss", "d_real", "d_fake") if k in last},
        "generated": {"pixel_mean": float(generated.mean()), "pixel_std": float(generated.std()),
                      "real_pixel_mean": float(real.mean()), "real_pixel_std": float(real.std())},
    })
    samples = sorted(str(p.relative_to(run_dir)) for p in (run_dir / "samples").glob("*.png"))
    return {"epochs_run": len(trainer.history), "stop_reason": trainer.stop_reason, "parameters": params,
            "arch": model.arch, "latent": model.latent, "samples": samples}


# ----------------------------------------------------------------------------- after the run
def load_generator(run_dir):
    """The trained generator of a GAN run directory (eval mode) and the run's preprocessing
    state, rebuilt from config.yaml and preprocess.json alone."""
    from safetensors.torch import load_file

    from ..config import load_config
    from ..data import DataSpec
    from ..models.gan import build_gan
    from ..runs import read_json

    run_dir = Path(run_dir)
    cfg = load_config(run_dir / "config.yaml")
    if cfg.model.type != "gan":
        raise UserError(f"{str(run_dir)!r} is a {cfg.model.type} run, not a gan run")
    weights = run_dir / "model.safetensors"
    if not weights.is_file():
        raise UserError(f"{str(run_dir)!r} has no model.safetensors: the run did not finish; resume it first")
    state = read_json(run_dir / "preprocess.json")
    G, _ = build_gan(cfg.model, DataSpec(**state["spec"]))
    prefix = "generator."
    G.load_state_dict({k[len(prefix):]: v for k, v in load_file(str(weights)).items() if k.startswith(prefix)})
    return G.eval(), state


def generate(run_dir, n: int, seed: int = 0):
    """n images from a GAN run, de-normalized to the data's pixel units: a float32 array (n, C, H, W)."""
    G, state = load_generator(run_dir)
    image = state.get("image") or {}
    c = G.shape[0]
    noise = torch.randn(n, G.latent, generator=torch.Generator().manual_seed(seed))
    return to_pixels(sample(G, noise), image.get("mean", [0.0] * c), image.get("std", [1.0] * c)).numpy()
