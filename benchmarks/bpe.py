"""Our BPE beside HuggingFace tokenizers: compression on held-out text, training time, encoding speed.

    python benchmarks/bpe.py [--text FILE] [--vocab-size 4096] [--repeats 3] [--threads N]

Both learn byte-level BPE with the same vocabulary size (256 bytes + merges) from the same text:
the first 90% of the file (tinyshakespeare by default: OMAKASE_DATA_DIR, the cache or a download);
HuggingFace's model is tokenizers' BPE with the ByteLevel pre-tokenizer (GPT-2's split, no prefix
space), the same split ours approximates with the stdlib `re`. The table gives, for each:
bytes per token on the last 10% (held out: neither trained on it), training seconds, and encoding
speed in MB/s over the whole file, each a median over --repeats; ours encodes with an empty chunk
cache every time (a fresh tokenizer), so the cache is built inside the timing. tokenizers may use
several threads (--threads sets RAYON_NUM_THREADS for it; the default leaves it alone); ours uses one.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omakase import data  # noqa: E402
from omakase.bpe import BPE  # noqa: E402


def ours(train_text: str, vocab_size: int):
    started = time.perf_counter()
    bpe = BPE.train(train_text, vocab_size)
    return bpe, time.perf_counter() - started


def theirs(train_text: str, vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    started = time.perf_counter()
    tok.train_from_iterator([train_text], trainer)
    return tok, time.perf_counter() - started


def encode_seconds(encode, text: str) -> float:
    started = time.perf_counter()
    encode(text)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", help="a UTF-8 text file (default: tinyshakespeare)")
    parser.add_argument("--vocab-size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="RAYON_NUM_THREADS for tokenizers (default: its own choice)")
    args = parser.parse_args()
    if args.threads:
        os.environ["RAYON_NUM_THREADS"] = str(args.threads)  # read when tokenizers first starts its thread pool
    import tokenizers

    path = data.resolve(args.text, "shakespeare")
    text = data.read_text(path)
    cut = int(len(text) * 0.9)
    train_text, held_out = text[:cut], text[cut:]
    mb, held_bytes = len(text.encode("utf-8")) / 1e6, len(held_out.encode("utf-8"))

    mine, hf, batch = {"train": [], "encode": []}, {"train": [], "encode": []}, {"encode": []}
    lines = text.splitlines(keepends=True)
    for _ in range(args.repeats):
        bpe, seconds = ours(train_text, args.vocab_size)
        mine["train"].append(seconds)
        fresh = BPE.from_dict(bpe.to_dict())  # an empty cache
        mine["encode"].append(encode_seconds(fresh.encode, text))
        tok, seconds = theirs(train_text, args.vocab_size)
        hf["train"].append(seconds)
        hf["encode"].append(encode_seconds(lambda t: tok.encode(t).ids, text))
        batch["encode"].append(encode_seconds(lambda _: tok.encode_batch_fast(lines), text))
    mine["vocab"], hf["vocab"] = bpe.vocab_size, tok.get_vocab_size()
    mine["bpt"] = held_bytes / len(bpe.encode(held_out))
    hf["bpt"] = held_bytes / len(tok.encode(held_out).ids)
    assert bpe.decode(bpe.encode(held_out)) == held_out and tok.decode(tok.encode(held_out).ids) == held_out
    for r in (mine, hf, batch):
        r["mb_s"] = mb / statistics.median(r["encode"])
    for r in (mine, hf):
        r["train_s"] = statistics.median(r["train"])

    print(f"{path.name}: {mb:.2f} MB, trained on the first 90%, bytes/token on the last 10% ({held_bytes:,} bytes); "
          f"vocab_size {args.vocab_size}; medians of {args.repeats} repeats; {platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS', 'unset')}")
    print("| tokenizer | vocabulary | bytes/token (held out) | training s | encoding MB/s (whole file) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| ours (omakase/bpe.py), one string | {mine['vocab']:,} | {mine['bpt']:.3f} | {mine['train_s']:.2f} | "
          f"{mine['mb_s']:.2f} |")
    print(f"| HuggingFace tokenizers {tokenizers.__version__}, one string | {hf['vocab']:,} | {hf['bpt']:.3f} | "
          f"{hf['train_s']:.2f} | {hf['mb_s']:.2f} |")
    print(f"| the same, lines in a batch (encode_batch_fast) | | | | {batch['mb_s']:.2f} |")
    ratio = mine["bpt"] / hf["bpt"]
    print(f"\nOurs packs {mine['bpt']:.3f} bytes per token, {abs(ratio - 1) * 100:.1f}% "
          f"{'more' if ratio >= 1 else 'fewer'} than tokenizers' {hf['bpt']:.3f} (ratio {ratio:.3f}). "
          f"It trains in {mine['train_s']:.2f} s against {hf['train_s']:.2f} s for {mb * 0.9:.2f} MB "
          f"({times(mine['train_s'], hf['train_s'])}), and encodes the file as one string at {mine['mb_s']:.2f} MB/s "
          f"against {hf['mb_s']:.2f} MB/s ({times(1 / mine['mb_s'], 1 / hf['mb_s'])}; tokenizers on a batch of "
          f"lines: {batch['mb_s']:.2f} MB/s).")


def times(ours_s: float, theirs_s: float) -> str:
    """'2.3x slower' or '1.5x faster': ours beside theirs, from two durations."""
    return f"{ours_s / theirs_s:.1f}x slower" if ours_s >= theirs_s else f"{theirs_s / ours_s:.1f}x faster"

if __name__ == "__main__":
    main()
