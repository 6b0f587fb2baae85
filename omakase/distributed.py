"""Many stoves: training on several processes (torchrun), with PyTorch's distributed engine.

torchrun starts one process per stove and tells each its RANK and WORLD_SIZE in the
environment. Every process builds the very same run (same seed, same shuffle, same dials),
takes the same global batch at each step, and computes its share of it; the torch engine
adds the shares' gradients together (all-reduce, weighted by tokens), so every process takes
the same Adam step and the dials stay identical everywhere, as in one process with the
same global batch. Only rank 0 prints, logs and writes checkpoints.

Gradients are added by hand rather than through DistributedDataParallel's wrapper: DDP
averages per process, which equals the single-process mean only when every share has the
same number of tokens; names differ in length, and the token-weighted sum is exact.

Ming's torch engine (engines/torch.py) and the torch stages' loop (fit.py) share the
global batch this way; both ask `rank_and_world` which share is theirs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import OmakaseError


@dataclass(frozen=True)
class Stoves:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_environment() -> Stoves:
    """The process group torchrun describes, joined (gloo on CPU, NCCL on CUDA); one stove otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Stoves()
    try:
        import torch
        import torch.distributed as dist
    except ImportError:
        raise OmakaseError('training on several processes needs PyTorch; from the checkout: pip install -e ".[torch]"') from None
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)  # "cuda" then means this process's own GPU
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return Stoves(dist.get_rank(), dist.get_world_size(), local_rank)


def rank_and_world() -> tuple[int, int]:
    """This process's rank and the number of processes (0 and 1 outside torch.distributed)."""
    try:
        import torch.distributed as dist
    except ImportError:
        return 0, 1
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def finish(stoves: Stoves) -> None:
    if stoves.world > 1:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
