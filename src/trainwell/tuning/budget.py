"""auto's time budget inside its search: when no new trial starts and when a running one stops,
so that the final run (about as long as the trial it retrains) and the study's summary still fit.

A budget is {"end": unix time the whole command should end by, "tail": seconds after the search
that do not depend on the trials (the summary), "final_extra": seconds a run costs beyond its
epochs (test metrics, report.html, the run index)}.
"""

from __future__ import annotations

# The final run's epochs over the trial's: the same epochs again took up to 1.9x the trial's time
# with other jobs on the core (1.0x alone), and a budget overrun is worse than a trial fewer.
SLACK = 1.5


def search_end(study, budget: dict) -> tuple[float, float | None]:
    """(the time after which no trial starts, the time a running trial is stopped at, or None).

    The final run retrains the best trial, which may be any complete one: the longest of them is
    kept free. Until one trial has completed there is nothing to retrain, so the first runs to its end."""
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    free = budget["end"] - budget["tail"]
    if not done:
        return free, None
    longest = max(float(t.user_attrs.get("seconds", 0.0) or 0.0) for t in done)
    final = SLACK * longest + budget["final_extra"]
    return free - final, free - final
