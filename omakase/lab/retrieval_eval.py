"""`lab eval`: score retrieval methods on a BEIR collection, with intervals and a significance test.

Every metric is averaged over queries that have at least one relevant document,
with a 95% percentile-bootstrap interval; results are also split by query tag
(the shipped set tags each query lexical or paraphrase). Each pair of methods
gets a paired randomization test on per-query nDCG@10.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from .beir import Doc, Query
from .ranking_metrics import CEILINGS, METRICS, n_relevant
from ..report_folder import PALETTE, Report, pyplot
from .retrievers import Scorer, rank
from ..significance import bootstrap_ci, paired_randomization

TEST_METRIC = "nDCG@10"


def evaluate(
    corpus: dict[str, Doc],
    queries: dict[str, Query],
    qrels: dict[str, dict[str, int]],
    methods: list[str],
    scorer: Scorer,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> dict:
    doc_ids = list(corpus)
    qids = [q for q in queries if n_relevant(qrels.get(q, {})) > 0]
    index_of = {q: i for i, q in enumerate(queries)}
    per_query: dict[str, dict[str, list[float]]] = {}
    for method in methods:
        order = rank(scorer.scores(method))
        per_query[method] = {name: [] for name in METRICS}
        for q in qids:
            ranking = [doc_ids[j] for j in order[index_of[q], :10]]
            for name, fn in METRICS.items():
                per_query[method][name].append(fn(ranking, qrels[q]))

    groups = {"all": list(range(len(qids)))}
    for tag in sorted({queries[q].tag for q in qids if queries[q].tag}):
        groups[tag] = [i for i, q in enumerate(qids) if queries[q].tag == tag]

    summary = []
    for group, idx in groups.items():
        for method in methods:
            for name in METRICS:
                mean, lo, hi = bootstrap_ci(np.asarray(per_query[method][name])[idx], n_resamples, seed)
                summary.append({"group": group, "method": method, "metric": name, "n_queries": len(idx),
                                "mean": mean, "ci_low": lo, "ci_high": hi})
        for name, ceiling in CEILINGS.items():
            values = [ceiling(qrels[qids[i]]) for i in idx]
            summary.append({"group": group, "method": "ceiling", "metric": name, "n_queries": len(idx),
                            "mean": float(np.mean(values)), "ci_low": None, "ci_high": None})

    tests = []
    for group, idx in groups.items():
        for a, b in combinations(methods, 2):
            diff, p = paired_randomization(
                np.asarray(per_query[a][TEST_METRIC])[idx], np.asarray(per_query[b][TEST_METRIC])[idx], n_resamples, seed
            )
            tests.append({"group": group, "a": a, "b": b, "metric": TEST_METRIC, "mean_diff": diff, "p_value": p})

    return {
        "n_docs": len(doc_ids),
        "n_queries": len(qids),
        "n_queries_without_relevant": len(queries) - len(qids),
        "groups": {g: len(i) for g, i in groups.items()},
        "methods": methods,
        "n_resamples": n_resamples,
        "seed": seed,
        "embedder": getattr(scorer.embedder, "name", None),
        "docs_truncated_by_embedder": scorer.unseen_docs,
        "summary": summary,
        "tests": tests,
        "per_query": {"query_ids": qids, "methods": per_query},
    }


def cell(row: dict) -> str:
    if row["ci_low"] is None:
        return f"{row['mean']:.3f}"
    return f"{row['mean']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"


def table_rows(result: dict, group: str) -> tuple[list[str], list[list[str]]]:
    """One row per metric, one column per method (and the precision ceiling)."""
    rows = [r for r in result["summary"] if r["group"] == group]
    header = ["metric", *result["methods"], "ceiling"]
    out = []
    for name in METRICS:
        by_method = {r["method"]: r for r in rows if r["metric"] == name}
        out.append([name, *(cell(by_method[m]) for m in result["methods"]),
                    cell(by_method["ceiling"]) if "ceiling" in by_method else ""])
    return header, out


def limits(result: dict) -> list[str]:
    widths = [r["ci_high"] - r["ci_low"] for r in result["summary"] if r["metric"] == TEST_METRIC and r["ci_low"] is not None and r["group"] == "all" and r["method"] != "random"]
    n_tests = len(result["tests"])
    lines = [
        "## Limits: read before quoting a number",
        "",
        f"- {result['n_queries']} queries over {result['n_docs']} documents "
        f"({', '.join(f'{g}: {n}' for g, n in result['groups'].items() if g != 'all') or 'no tags'}); "
        f"{result['n_queries_without_relevant']} queries without a relevant document were left out.",
        f"- The 95% bootstrap intervals on {TEST_METRIC} are about {np.mean(widths):.2f} wide"
        if widths else "- No intervals were computed.",
        "  A difference between two methods whose intervals overlap, or whose randomization-test p-value is above "
        f"0.05/{n_tests} = {0.05 / max(n_tests, 1):.4f} (Bonferroni over the {n_tests} tests here), is not a finding.",
        "- all-MiniLM-L6-v2 was trained on about a billion text pairs that include CodeSearchNet "
        "(docstring, code) pairs: natural-language-to-code search is close to what it was trained for.",
        "- Lexical queries reuse identifiers from the code and so favour BM25 by construction; paraphrase queries share "
        "no identifier word with their relevant code and so favour dense retrieval. Compare within a tag, not across.",
        "- BM25 ties (for example all-zero scores) are broken by corpus order; random is one seeded shuffle.",
    ]
    if result["docs_truncated_by_embedder"]:
        lines.append(f"- {result['docs_truncated_by_embedder']} documents were longer than the embedder reads and were cut.")
    return lines


def write_report(result: dict, report: Report, shipped: bool) -> None:
    report.add(
        "# Retrieval evaluation",
        "",
        f"Methods: {', '.join(result['methods'])}. Each cell: mean over queries [95% bootstrap interval, "
        f"{result['n_resamples']} resamples, seed {result['seed']}]. Precision@k sits beside its ceiling: the best any "
        "system could score given how many relevant documents each query has.",
        "",
    )
    if shipped:
        report.add(
            "The shipped code-search set (`omakase/lab/data/codesearch`): queries were written and labeled before any "
            "retrieval was run on them; see docs/lab.md for how it was built.",
            "",
        )
    for group in result["groups"]:
        report.add(f"## {group} ({result['groups'][group]} queries)", "")
        report.table(*table_rows(result, group))
    report.add(f"## Paired randomization tests on {TEST_METRIC}", "")
    report.table(["group", "a", "b", "mean(a − b)", "p"],
                 [[t["group"], t["a"], t["b"], f"{t['mean_diff']:+.3f}", f"{t['p_value']:.4f}"] for t in result["tests"]])
    plot(result, report)
    report.add(*limits(result))
    report.csv("summary.csv", ["group", "method", "metric", "n_queries", "mean", "ci_low", "ci_high"],
               [[r[k] for k in ("group", "method", "metric", "n_queries", "mean", "ci_low", "ci_high")] for r in result["summary"]])
    pq = result["per_query"]
    report.csv("per_query.csv", ["query_id", "method", *METRICS],
               [[q, m, *(f"{pq['methods'][m][name][i]:.6f}" for name in METRICS)]
                for m in result["methods"] for i, q in enumerate(pq["query_ids"])])
    report.json("eval.json", result)
    report.write()


def plot(result: dict, report: Report) -> None:
    plt = pyplot()
    groups, methods = list(result["groups"]), result["methods"]
    fig, ax = plt.subplots(figsize=(1.8 * len(groups) + 2.5, 3.6))
    width = 0.8 / len(methods)
    for j, method in enumerate(methods):
        rows = [next(r for r in result["summary"] if r["group"] == g and r["method"] == method and r["metric"] == TEST_METRIC) for g in groups]
        x = np.arange(len(groups)) + j * width
        means = [r["mean"] for r in rows]
        err = [[r["mean"] - r["ci_low"] for r in rows], [r["ci_high"] - r["mean"] for r in rows]]
        ax.bar(x, means, width, yerr=err, capsize=3, color=PALETTE[j % len(PALETTE)], label=method)
    ax.set_xticks(np.arange(len(groups)) + width * (len(methods) - 1) / 2, [f"{g}\n({result['groups'][g]} q)" for g in groups])
    ax.set_ylabel(f"{TEST_METRIC} (95% CI)")
    ax.set_ylim(0, 1)
    ax.legend(ncol=len(methods), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 1.15))
    report.figure(fig, "ndcg.png", f"{TEST_METRIC} by method and query tag, with 95% bootstrap intervals")
