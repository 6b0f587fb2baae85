"""`lab similarity` and `lab metrics` end to end: tables, reports, and refusing to overwrite."""

import json

from omakase.cli import main


def test_similarity_builtin_sets_write_heatmaps_and_data(tmp_path, minilm, capsys):
    out = tmp_path / "sim"
    assert main(["lab", "similarity", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "384" in printed and "cat" in printed
    for name in ("words", "paraphrases", "sum-in-three-languages"):
        assert (out / f"{name}.png").stat().st_size > 0
        assert (out / f"{name}.csv").exists()
    data = json.loads((out / "similarity.json").read_text())
    words = data["sets"]["words"]
    m = words["matrix"]
    cat, dog, car = (words["items"].index(w) for w in ("cat", "dog", "car"))
    assert m[cat][dog] > m[cat][car]
    para = data["sets"]["paraphrases"]["matrix"]
    assert para[0][1] > para[0][2]  # "the big dog ran fast" is nearer its paraphrase than a stranger


def test_existing_report_needs_force(tmp_path, minilm, capsys):
    out = tmp_path / "sim"
    args = ["lab", "similarity", "--item", "cat", "--item", "dog", "--out", str(out)]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("omakase: error:") and "--force" in err and "\n" not in err
    assert main([*args, "--force"]) == 0


def test_similarity_items_from_file_with_ming(tmp_path, ming_checkpoint, capsys):
    items = tmp_path / "items.txt"
    items.write_text("salt\nsugar\n\nvinegar\n")
    out = tmp_path / "ming"
    assert main(["lab", "similarity", "--file", str(items), "--embedder", "ming",
                 "--checkpoint", str(ming_checkpoint), "--out", str(out)]) == 0
    data = json.loads((out / "similarity.json").read_text())
    assert data["dim"] == 16 and data["sets"]["your-items"]["items"] == ["salt", "sugar", "vinegar"]


def test_similarity_needs_two_items(tmp_path, capsys):
    assert main(["lab", "similarity", "--item", "cat", "--out", str(tmp_path / "x")]) == 2
    assert "at least two items" in capsys.readouterr().err


def test_metrics_report(tmp_path, minilm, capsys):
    out = tmp_path / "metrics"
    assert main(["lab", "metrics", "--out", str(out)]) == 0
    res = json.loads((out / "metrics.json").read_text())
    assert res["max_abs_diff_cosine_vs_numpy"] < 1e-6
    assert res["unit_identity_max_gap"] < 1e-9
    assert res["unit_rank_by_cosine"] == res["unit_rank_by_euclidean"]
    assert res["stretched_rank_by_cosine"] != res["stretched_rank_by_euclidean"]
    assert res["toy_rank_by_cosine"][0] == "long" and res["toy_rank_by_euclidean"][0] == "near"
    assert (out / "unit_identity.png").exists() and (out / "counter_example.png").exists()
