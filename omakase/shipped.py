"""The measured runs that ship with the package, so their numbers can be told on a machine without PyTorch.

    assistant   the report.json of `omakase assistant build --preset cpu` (docs/assistant.md's run)
    tokenizer   that build's BPE (tokenizer.json): the same merges, so a text is cut as the run cut it
    service     `omakase service all` on the bigger Ming (docs/service/bigger), every hack's table
    sweep       `omakase service sweep`: the KV cache and INT8 by model size, on random weights (docs/service/sweep)

Each file lives in omakase/records/ and is checked against its sha256 whenever it is read, like the
shipped names.txt (data.py). What a file does not say about itself (the date it was run, the commit)
is written here, next to its digest, from the docs that published it.

The tokenizer is not in the build's report: it is the build's own tokenizer.json, which reproduces the
report's numbers (its bytes per token on the validation documents, its strawberry split: tested).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import OmakaseError

RECORDS = Path(__file__).parent / "records"


@dataclass(frozen=True)
class ShippedRun:
    file: str
    sha256: str
    date: str  # the day it was run (from the docs that published it)
    source: str  # where the same numbers are published in the repository


SHIPPED = {
    "assistant": ShippedRun("assistant-report.json",
                            "914ef2728981d4d860a7e4bde0b4110c0fc2b7d9e65284a1e83cadb8905a2027",
                            "2026-12-08", "docs/assistant/report.json"),
    "tokenizer": ShippedRun("assistant-tokenizer.json",
                            "e90fb6e365a483231b69b733972bb72aa938225d1c7fa1560e00ccdf56a08b10",
                            "2026-12-07", "the tokenizer of docs/assistant/report.json's run"),
    "service": ShippedRun("service-bigger.json",
                          "7607bed418f0e298ebc44577d25f03b117f9ac169345afaf7608b0f565b8ca0d",
                          "2026-11-28", "docs/service/bigger/all.json"),
    "sweep": ShippedRun("service-sweep.json",
                        "52fd6cb72becacb41aa0e6451c70dd30234a91b4adfe378bad45344dcdae4960",
                        "2026-12-06", "docs/service/sweep/sweep.json"),
}


def path(name: str) -> Path:
    """The shipped file `name` ("assistant", "tokenizer", "service", "sweep"), checked against its sha256."""
    run = SHIPPED[name]
    where = RECORDS / run.file
    try:
        digest = hashlib.sha256(where.read_bytes()).hexdigest()
    except OSError as e:
        raise OmakaseError(f"the shipped {where} cannot be read ({e.strerror}); reinstall omakase") from None
    if digest != run.sha256:
        raise OmakaseError(f"the shipped {where} has sha256 {digest[:12]}..., expected {run.sha256[:12]}...; "
                           f"reinstall omakase")
    return where


def load(name: str):
    """The shipped file `name`, checked, as JSON."""
    return json.loads(path(name).read_text(encoding="utf-8"))
