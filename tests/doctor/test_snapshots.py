"""The states the doctor keeps to roll back to: taken every healthy epoch, they must hold what the run
was at that epoch however long training goes on, and a rollback must not tie them to the live run."""

import types

import torch
from torch import nn

from trainwell.config import load_config
from trainwell.doctor.facts import Context
from trainwell.doctor.live import Doctor
from trainwell.training.callbacks import EarlyStopping
from trainwell.training.loop import TensorData, Trainer
from trainwell.training.optim import Schedule


def _run(callbacks):
    torch.manual_seed(0)
    x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    return Trainer(model=net, optimizer=torch.optim.Adam(net.parameters(), 1e-2), loss_fn=nn.CrossEntropyLoss(),
                   schedule=Schedule(load_config({"data": {"source": "builtin:iris"}}).schedule),
                   train=TensorData(x, y), epochs=30, batch_size=16, callbacks=callbacks)


def _doctor():
    return Doctor(Context(task="multiclass", loss="cross_entropy", optimizer="adam", lr=1e-2, epochs=30),
                  types.SimpleNamespace(nonfinite=None, records=[]), lambda line: None, repair=True)


def _model(snapshot):
    return {k: v.clone() for k, v in snapshot[0].items() if k.startswith("model.")}


def test_every_kept_state_holds_its_own_epoch_while_retired_ones_are_written_over():
    doc = _doctor()
    tr = _run([doc])
    doc.on_fit_start(tr)
    seen = {0: _model(doc._first)}
    reused = 0
    for epoch in range(1, 15):
        tr.history.append(tr._run_epoch())
        spare = doc._spare
        snap = doc._snap(tr)
        if spare is not None:   # the pool must be used, not only be harmless
            assert snap[0]["model.0.weight"] is spare[1]["model.0.weight"]
            reused += 1
        doc._keep_healthy(snap)
        seen[epoch] = _model(snap)
        for kept in [doc._first, doc._good, *doc._anchors]:
            at = kept[1]["pos"]["epoch"]
            assert all(torch.equal(kept[0][k], v) for k, v in seen[at].items()), f"the state of epoch {at} changed"
    assert reused >= 8   # 14 epochs, less the anchors (epochs 1, 5, 9, 13) and the first snapshot
    assert [a[1]["pos"]["epoch"] for a in doc._anchors] == [9, 13]


def test_a_state_rolled_back_to_is_not_changed_by_the_training_after_it():
    # restore_optimizer kept the snapshot's tensors as the optimizer's own: Adam's averages then
    # moved the snapshot along with the run, and a second rollback to it restored nothing
    stop = EarlyStopping("val_loss", "min", patience=100, min_delta=0.0, restore_best=True)
    tr = _run([stop])
    tr.history.append(tr._run_epoch())
    tensors, meta = tr.state()
    tensors = {k: v.clone() for k, v in tensors.items()}   # a snapshot, as the doctor takes it
    kept = {k: v.clone() for k, v in tensors.items()}
    tr.load_state(tensors, meta)
    for _ in range(3):
        tr.history.append(tr._run_epoch())
    assert all(torch.equal(tensors[k], kept[k]) for k in kept if k.startswith(("opt.", "model.")))
    assert any(not torch.equal(tr.optimizer.state_dict()["state"][0]["exp_avg"], tensors[k])
               for k in tensors if k == "opt.0.exp_avg")


def test_only_the_live_tensors_are_copied_and_frozen_callbacks_are_shared():
    stop = EarlyStopping("val_loss", "min", patience=100, min_delta=0.0, restore_best=True)
    doc = _doctor()
    tr = _run([stop, doc])
    stop.best_weights = {k: v.clone() for k, v in tr.model.state_dict().items()}
    tensors, _ = tr.state()
    live = set(tr.live_keys(tensors))
    assert {k for k in tensors if k.startswith(("model.", "opt."))} <= live
    assert not any(k.startswith("cb.0.") for k in live)   # early stopping's best weights: its own clone
    snap = doc._snap(tr)
    assert snap[0]["cb.0.0.weight"] is stop.best_weights["0.weight"]
    assert snap[0]["model.0.weight"] is not tr.model[0].weight
    assert torch.equal(snap[0]["model.0.weight"], tr.model[0].weight)


def test_a_new_network_is_never_copied_into_the_old_ones_tensors():
    doc = _doctor()
    tr = _run([doc])
    doc.on_fit_start(tr)
    for _ in range(3):
        tr.history.append(tr._run_epoch())
        doc._keep_healthy(doc._snap(tr))
    assert doc._spare is not None
    wide = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))   # the same keys
    with torch.no_grad():
        wide[0].weight.fill_(0.5)
    tr.replace_model(wide, torch.optim.Adam(wide.parameters(), 1e-2))
    spare = doc._spare
    snap = doc._snap(tr)
    assert spare is None
    assert torch.equal(snap[0]["model.0.weight"], torch.full((8, 4), 0.5))


def test_an_optimizer_state_that_holds_other_values_than_tensors_is_restored():
    # review: restore_optimizer cloned the plain values too (a momentum buffer of None, as SGD kept it
    # before torch 2.1, or a custom optimizer's counters)
    from trainwell.training.checkpoint import flatten_optimizer, restore_optimizer

    m = nn.Linear(2, 1)
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    opt.state[m.weight]["momentum_buffer"] = None
    tensors, meta = flatten_optimizer(opt)
    restore_optimizer(opt, tensors, meta)
    assert opt.state[m.weight]["momentum_buffer"] is None
