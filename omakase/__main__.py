"""`python -m omakase ...` (and `torchrun -m omakase train ...`) is the `omakase` command."""

from .cli import run

run()
