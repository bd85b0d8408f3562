"""The doctor's rules: one small function per problem. Each reads the history and the signals and
returns a Finding or None. A condition must hold over several epochs or checks before it fires, so
noise alone never does; every threshold says in a comment why it is where it is.

history: the epoch logs (train_loss, val_loss, train_accuracy, val_accuracy, lr, ...).
signals: {"records": [check dicts from signals.Signals], "nonfinite": dict | None,
          "initial_probe": {"dead": {...}, "saturated": {...}, "scale": {...}, "gain": {...}} | None
                           (before the first step; gain: signals.recurrent_gain)}.
ctx:     Context, the facts about the run that do not change while it trains.

Judged before the first step, from the prepared data and the plan (each a Finding at epoch 0; with
repair on, api._preflight applies the top fix before training):
  input_data.py   the values themselves: non-finite cells, codes, clipping, fills, leaks, scale
  preparation.py  how the data was cut and shaped: splits, windows, padding, text, sampling
  plan.py         the model, optimizer, schedule and stopping planned for it
  wiring.py       how a custom network is wired (doctor/wiring.py and its wiring_*.py)
Judged while training (and again at the end):
  blowup.py       diverged, exploding_gradients
  rate.py         lr_too_high, lr_too_low
  units.py        vanishing_gradients, dying_relu, saturated_activations
  chance.py       stuck_at_chance, class_imbalance
  fit.py          overfitting, underfitting
  progress.py     plateau (and schedules that stop learning early)
Shared: yardstick.py (the linear model fitted beside the net), root_causes.py (faults whose fix goes
first whatever the symptom). The measures the rules share live in doctor/measures.py.
"""

from __future__ import annotations

import os
import warnings

from ..facts import Context
from ..findings import Finding
# chance_loss and smoothed_floor are re-exported: the tests read them with the rules.
from ..measures import _History, chance_loss, loss_shift, smoothed_floor  # noqa: F401
from .blowup import diverged, exploding_gradients
from .chance import class_imbalance, stuck_at_chance
from .fit import overfitting, underfitting
from .input_data import bad_input_data, unscaled_features
from .plan import (adam_betas_off, batch_norm_starved, blind_convolutions, class_weights_off, coupled_decay_heavy,
                   decays_too_fast,
                   frozen_at_random, gradient_never_arrives, group_rate_off, group_rate_starved, huber_capped, l1_outweighs,
                   linear_network, map_collapsed, mlp_reads_steps, momentum_runaway, monitor_backwards, narrow_head, order_unseen, pooled_position,
                   recurrence_across_batch, schedule_rises, softmax_twice, stops_too_soon, too_few_steps, transformer_dropout,
                   transformer_sgd, warmup_outlasts_run)
from .pairs import augment_mirrors_classes
from .progress import plateau, stops_while_learning
from .preparation import (amounts_as_codes, augment_too_strong, augment_shifts_classes, augment_turns_classes, clip_flattens, columns_drown_signal,
                          features_left_out,
                          columns_left_out, dedup_conflicts,
                          file_words_unknown, images_blurred_together, padded_after, rows_sorted, series_gaps_dropped,
                          series_unshuffled, split_reversed, split_twins, steps_as_features, target_history_unseen,
                          text_column_silent, text_cut_short, undersampled_away, vocab_starved, window_too_short)
from .rate import lr_too_high, lr_too_low
from .root_causes import (_with_augment_fix, _with_dropout_option_fix, _with_eps_fix, _with_fraction_fix, _with_momentum_fix,
                          _with_scaling_fix, _with_small_init_fix, _with_symmetry_fix, _with_warmup_fix)
from .units import dying_relu, saturated_activations, vanishing_gradients
from .wiring import (bn_momentum, bn_shared, channels_unread, conv_over_features, features_interchangeable, features_unread, frozen_random_weights, gradient_uphill, ids_read_as_numbers,
                     init_without_gradient, inputs_dropped, inputs_flattened, inputs_quantized, inputs_unread, level_blind,
                     norm_too_narrow, order_blind, output_dropped, pixels_unread, output_off_scale, outputs_bounded, outputs_clamped,
                     newest_unread, outputs_tied, steps_averaged,
                     read_backwards, sign_blind, tokens_merged,
                     random_at_prediction, rows_mixed, signal_lost, steps_unread, tokens_unread, turn_blind, unregistered_weights,
                     weights_barely_learn)
from .wiring_transforms import images_flat, inputs_scrambled, rows_swapped


# Judged before the first step, from the prepared data and the plan.
PRE_TRAINING = [bad_input_data, images_blurred_together, unscaled_features, too_few_steps, frozen_at_random,
                coupled_decay_heavy,
                blind_convolutions, class_weights_off, monitor_backwards, adam_betas_off, momentum_runaway, group_rate_off,
                group_rate_starved, target_history_unseen, stops_too_soon, batch_norm_starved, undersampled_away,
                window_too_short, columns_left_out, columns_drown_signal, features_left_out, rows_sorted, series_unshuffled, steps_as_features, split_reversed, split_twins,
                amounts_as_codes,
                text_cut_short, text_column_silent, narrow_head, map_collapsed, decays_too_fast, schedule_rises, warmup_outlasts_run, augment_too_strong, vocab_starved, file_words_unknown, clip_flattens,
                dedup_conflicts, series_gaps_dropped, padded_after, transformer_dropout, transformer_sgd, huber_capped,
                augment_turns_classes, augment_shifts_classes, l1_outweighs, pooled_position, order_unseen, linear_network, recurrence_across_batch,
                mlp_reads_steps, softmax_twice, gradient_never_arrives, unregistered_weights, frozen_random_weights,
                gradient_uphill, steps_unread, ids_read_as_numbers, output_off_scale, init_without_gradient, weights_barely_learn,
                random_at_prediction,
                rows_mixed, rows_swapped, images_flat, inputs_scrambled, inputs_unread, tokens_unread, norm_too_narrow, inputs_flattened, inputs_quantized, level_blind,
                read_backwards, newest_unread, bn_momentum, bn_shared, outputs_clamped, outputs_bounded, output_dropped, outputs_tied, tokens_merged, features_unread, order_blind, steps_averaged, pixels_unread,
                channels_unread, conv_over_features, sign_blind, features_interchangeable, turn_blind, signal_lost]
# Order matters for reporting: causes before symptoms.
RULES = PRE_TRAINING + [diverged, exploding_gradients, lr_too_high, lr_too_low, vanishing_gradients, dying_relu,
                        saturated_activations, stuck_at_chance, class_imbalance, augment_mirrors_classes, inputs_dropped,
                        overfitting,
                        underfitting, plateau, stops_while_learning]
# Judged while training, every epoch (listed once: the live doctor's filter cost 19 us an epoch).
LIVE = [r for r in RULES if r not in PRE_TRAINING]


def examine(history: list[dict], signals: dict, ctx: Context, rules=None) -> list[Finding]:
    if ctx.judged_from:
        # After a repair the run is judged as it now is: the epochs and checks before the fix
        # describe a run that no longer exists (and would make the same finding fire again).
        history = history[ctx.judged_from:]
        signals = {**signals, "records": [r for r in signals.get("records", []) if r["epoch"] > ctx.judged_from]}
    shift = loss_shift(ctx)
    if shift:
        # Label smoothing: a perfect model's loss is the floor, not 0. The rules compare losses
        # with 0 and with chance, so they read the loss above the floor (chance_loss does too).
        history = [{k: (v - shift if k in ("train_loss", "val_loss") and isinstance(v, (int, float)) else v)
                    for k, v in h.items()} for h in history]
        signals = {**signals, "records": [{**r, "loss": r["loss"] - shift} if isinstance(r.get("loss"), (int, float))
                                          else r for r in signals.get("records", [])]}
    history = _History(history)
    out = []
    for rule in rules or RULES:
        try:
            finding = rule(history, signals, ctx)
        except Exception as exc:
            # A rule's own failure must never stop the user's run: it is skipped, with a warning.
            # The test suite sets TRAINWELL_STRICT_RULES, so that there it fails instead.
            if os.environ.get("TRAINWELL_STRICT_RULES"):
                raise
            warnings.warn(f"doctor: the {rule.__name__} check failed ({type(exc).__name__}: {exc}) and was skipped",
                          RuntimeWarning, stacklevel=2)
            continue
        if finding is not None:
            if shift:  # the losses in the evidence are above the floor, not as history.jsonl has them
                finding.evidence["loss_floor_subtracted"] = round(shift, 5)
            finding = _with_symmetry_fix(_with_augment_fix(_with_momentum_fix(_with_eps_fix(_with_scaling_fix(finding, ctx), ctx),
                                                                                 ctx), ctx), ctx)
            finding = _with_warmup_fix(_with_fraction_fix(_with_dropout_option_fix(finding, ctx), ctx), ctx)
            out.append(_named_init_for_custom(_with_small_init_fix(finding, ctx, signals), ctx))
    return out


def _named_init_for_custom(finding: Finding, ctx: Context) -> Finding:
    """`model.init.weight: auto` leaves a custom network (model.type python) with the init its
    builder gave it, which is the fault when an init fix is offered: `pytorch` re-draws every layer
    as PyTorch's constructors do. A regressor whose builder drew every weight and bias from N(0, 1):
    r2 -43/-15; he_uniform with zero biases 0.932/0.917; the builder without its own init (PyTorch's)
    0.946/0.940 (thirteenth held-out set)."""
    if ctx.model_type != "python":
        return finding
    for fix in finding.fixes:
        if fix.overrides.get("model.init.weight") == "auto":
            fix.overrides = {k: v for k, v in fix.overrides.items() if k != "model.init.bias"}
            fix.overrides["model.init.weight"] = "pytorch"
            fix.reason += " (`pytorch`: every layer re-drawn as PyTorch builds it; `auto` would keep the builder's own)"
    return finding
