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
