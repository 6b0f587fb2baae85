"""The tasting lab: embeddings, similarity and semantic code search, measured offline.

An embedding (one of Ming's "flavor profile cards", grown up) turns a text into
a vector; texts that mean similar things should get vectors that point the same
way. The lab checks that claim with the measures an information-retrieval
researcher would accept: a labeled set, from-scratch metrics checked against
reference libraries, baselines, confidence intervals and a significance test.

Heavy libraries (torch, sentence-transformers, chromadb, bm25s) are imported
inside the functions that need them, so `omakase --help` stays fast without
the `lab` extra installed.
"""

from importlib import import_module

from ..errors import OmakaseError


def extra(module: str):
    """`module` from the lab extra, imported now; missing, one clear line naming the install."""
    try:
        return import_module(module)
    except ImportError as e:
        raise OmakaseError(f'the lab needs its extra ({e.name or module} is missing); from the checkout: '
                           f'pip install -e ".[lab]"') from None
