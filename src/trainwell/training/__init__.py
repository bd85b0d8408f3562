"""Training: the loop, its callbacks, losses, optimizers and schedules."""
