"""Code search on sets built from real packages: random, BM25, dense (MiniLM) and hybrid, nDCG@10.

    python benchmarks/lab_make_set.py [--packages networkx sympy] [--max 500] [--dir DIR] [--resamples 10000]
                                      [--tables-only]

For each package it runs the two commands a user would run, and prints what they measured:

    omakase lab make-set PACKAGE --out DIR/PACKAGE --max 500 --force
    omakase lab eval --set DIR/PACKAGE --json --out DIR/report-PACKAGE --force

then a Markdown table per package (the one in docs/lab.md) with nDCG@10 and MRR@10, their 95%
bootstrap intervals, the paired randomization tests on nDCG@10, and sentences computed from
them. --tables-only prints them again from DIR's reports without running anything.
DIR defaults to omakase-make-set in the system's temporary folder.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def omakase(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "omakase", *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"omakase {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def fmt(row: dict) -> str:
    return f"{row['mean']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"


def markdown(package: str, made: dict, result: dict) -> str:
    rows = {(r["group"], r["method"], r["metric"]): r for r in result["summary"]}
    groups = result["groups"]
    lines = [f"**{package}**: {result['n_queries']} queries, {result['n_docs']} documents (a seeded sample of "
             f"{made['pairs_before_cap']} pairs from {made['files_read']} files); "
             f"{result['docs_truncated_by_embedder']} documents are longer than MiniLM reads.", "",
             "| method | " + " | ".join(f"nDCG@10, {g} ({n} q)" for g, n in groups.items()) + " | MRR@10, all |",
             "|---" * (len(groups) + 2) + "|"]
    for method in result["methods"]:
        cells = [fmt(rows[(g, method, "nDCG@10")]) for g in groups] + [fmt(rows[("all", method, "MRR@10")])]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines += ["", "| a − b (nDCG@10, all) | mean difference | p (paired randomization) |", "|---|---|---|"]
    tests = [t for t in result["tests"] if t["group"] == "all"]
    for t in tests:
        lines.append(f"| {t['a']} − {t['b']} | {t['mean_diff']:+.3f} | {t['p_value']:.4f} |")
    alpha = 0.05 / len(tests)  # Bonferroni over the pairs
    better = [f"{t['b'] if t['mean_diff'] < 0 else t['a']} > {t['a'] if t['mean_diff'] < 0 else t['b']}"
              for t in tests if t["p_value"] < alpha]
    tied = [f"{t['a']} vs {t['b']} (p = {t['p_value']:.3f})" for t in tests if t["p_value"] >= alpha]
    lines += ["", f"At p < 0.05/{len(tests)} = {alpha:.4f}: " + (", ".join(better) or "no difference") + "; "
              + (f"not distinguishable: {', '.join(tied)}." if tied else "every pair differs.")
              + f" {made['name_word_queries']} of {made['queries']} queries hold a word of their function's name."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", nargs="+", default=["networkx", "sympy"])
    parser.add_argument("--max", type=int, default=500)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "omakase-make-set")
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--tables-only", action="store_true", help="Print the tables from DIR's reports; run nothing.")
    args = parser.parse_args()
    tables = []
    for package in args.packages:
        folder, report = args.dir / package, args.dir / f"report-{package}"
        if not args.tables_only:
            print(omakase("lab", "make-set", package, "--out", str(folder), "--max", str(args.max), "--force"), flush=True)
            omakase("lab", "eval", "--set", str(folder), "--json", "--resamples", str(args.resamples),
                    "--out", str(report), "--force")
        made = json.loads((folder / "make_set.json").read_text())
        result = json.loads((report / "eval.json").read_text())
        tables.append(markdown(package, made, result))
        print(tables[-1] + "\n", flush=True)


if __name__ == "__main__":
    main()
