"""Same seed, same data, in any process: the assistant's data never depends on Python's hash seed or
on the global random stream (a set iterated in the wrong place would change it between runs).

Calling a function twice in one process cannot show that (both calls see the same hash seed), so
the data is made in two processes with different PYTHONHASHSEEDs and compared by digest.
"""

import os
import subprocess
import sys

SCRIPT = """
import hashlib, random
from omakase.assistant.data import bills, labelers, pipeline
from omakase.assistant.data.documents import write_documents
from omakase.assistant.data.world import make_world
from omakase.bpe import BPE

random.seed(int(__import__("os").environ["PYTHONHASHSEED"]))  # a different global stream in each process too
world = make_world(3, "small")
docs = write_documents(world, 3)
made = {
    "world": world,
    "documents": docs,
    "questions": labelers.fact_questions(world, 3),
    "sft": labelers.sft_conversations(world, 3, smalltalk_pairs=[("Hello", "Hi there!")]),
    "bills": bills.bill_questions(world, seed=3, n=20),
    "split": pipeline.split_by_document(docs, 0.1, 3),
    "bpe": BPE.train(" ".join(d.text for d in docs[:50]), 256 + 40).to_dict(),
}
for name, value in made.items():
    print(name, hashlib.sha256(repr(value).encode()).hexdigest()[:16])
"""


def digests(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                          check=True).stdout


def test_the_data_is_the_same_under_any_hash_seed():
    first = digests("1")
    assert len(first.splitlines()) == 7
    assert digests("2") == first
