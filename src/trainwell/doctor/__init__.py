"""The doctor: examines a run, explains what went wrong in plain words, and suggests fixes."""
