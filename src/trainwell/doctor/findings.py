"""What the doctor says: a Finding per problem, each with evidence, an explanation and fixes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# The fixed vocabulary (DESIGN.md section 3). A finding's code is always one of these.
CODES = (
    "diverged", "lr_too_high", "lr_too_low", "plateau", "stuck_at_chance", "overfitting", "underfitting",
    "vanishing_gradients", "exploding_gradients", "dying_relu", "saturated_activations", "bad_input_data",
    "unscaled_features", "class_imbalance",
)
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass
class Fix:
    overrides: dict            # config keys -> new values, e.g. {"optimizer.lr": 0.001}
    reason: str
    architecture: bool = False  # changes the network itself: only with doctor.allow_architecture_changes
    repeatable: bool = False    # may be applied again when the problem comes back (a further lr cut)


@dataclass
class Finding:
    code: str
    severity: str              # error | warning | info
    epoch: int | None          # epoch of onset (1-based; 0 = before training)
    step: int | None
    evidence: dict             # the numbers, and the thresholds they crossed
    explanation: str           # why this happens, in the config's terms
    fixes: list[Fix] = field(default_factory=list)

    def __post_init__(self):
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Finding":
        return cls(**{**d, "fixes": [Fix(**f) for f in d.get("fixes", [])]})

    def headline(self) -> str:
        when = "before training" if self.epoch == 0 else f"epoch {self.epoch}" if self.epoch else "end of run"
        return f"[{self.severity}] {self.code} ({when}): {self.explanation.split('. ')[0].rstrip('.')}"


def ranked(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.epoch if f.epoch is not None else 10**9))
