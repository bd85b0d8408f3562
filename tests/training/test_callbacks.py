"""Callbacks on scripted metric sequences (no training needed)."""

import torch

from trainwell.training.callbacks import EarlyStopping, Monitor


class FakeTrainer:
    def __init__(self):
        self.model = torch.nn.Linear(1, 1)
        self.should_stop = False
        self.stop_reason = None
        self.history = []


def feed(cb, trainer, values, key="val_loss"):
    for epoch, v in enumerate(values, start=1):
        with torch.no_grad():
            trainer.model.weight.fill_(epoch)  # the weights remember which epoch they came from
        logs = {"epoch": epoch, key: v}
        trainer.history.append(logs)
        cb.on_epoch_end(trainer, logs)
        if trainer.should_stop:
            break


def test_stops_after_patience_and_restores_best():
    t, cb = FakeTrainer(), EarlyStopping("val_loss", "auto", patience=3, min_delta=0.0, restore_best=True)
    feed(cb, t, [1.0, 0.5, 0.6, 0.7, 0.8, 0.1])
    assert t.should_stop and cb.stopped_epoch == 5
    assert "best 0.5 at epoch 2" in t.stop_reason
    cb.on_fit_end(t)
    assert t.model.weight.item() == 2.0
    assert "restored the weights of epoch 2" in t.stop_reason


def test_mode_auto_maximises_scores_and_min_delta_counts():
    t, cb = FakeTrainer(), EarlyStopping("val_accuracy", "auto", patience=2, min_delta=0.05, restore_best=False)
    feed(cb, t, [0.5, 0.52, 0.54, 0.9], key="val_accuracy")
    # 0.52 and 0.54 are within min_delta of 0.5, so patience ran out before 0.9 arrived.
    assert t.should_stop and cb.monitor.best == 0.5 and cb.monitor.mode == "max"


def test_nan_never_counts_as_improvement():
    m = Monitor("val_loss", "min")
    assert m.improved({"epoch": 1, "val_loss": 1.0})
    assert not m.improved({"epoch": 2, "val_loss": float("nan")})
    assert m.best == 1.0


def test_state_round_trip_continues_patience():
    t, cb = FakeTrainer(), EarlyStopping("val_loss", "min", patience=3, min_delta=0.0, restore_best=True)
    feed(cb, t, [1.0, 1.1, 1.2])
    meta, tensors = cb.state_dict()
    fresh = EarlyStopping("val_loss", "min", patience=3, min_delta=0.0, restore_best=True)
    fresh.load_state_dict(meta, tensors)
    t2 = FakeTrainer()
    fresh.on_epoch_end(t2, {"epoch": 4, "val_loss": 1.3})
    assert t2.should_stop  # 3 bad epochs in total, across the resume
    fresh.on_fit_end(t2)
    assert t2.model.weight.item() == 1.0
