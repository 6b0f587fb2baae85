"""The tour's figures: drawn from the chapters' data, kept when unchanged, labelled in the reader's language."""

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from omakase.config import count_params
from omakase.tour import chapters, drawing, gallery, story
from omakase.tour.chapters import (CHAPTERS, ch1_records, ch2_courses, ch3_assembly_line, ch4_scorecard, ch5_tracing,
                                   ch6_training, ch7_graduation, ch8_michelin)
from tour_data import SMALL, WORDS, csv_rows, svg_text


def test_figures_are_images_with_their_data(drawn):
    for (n, name), png in drawn.items():
        assert png.name == f"ch{n}-{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert ET.parse(png.with_suffix(".svg")).getroot().tag.endswith("svg")
        lines = png.with_suffix(".csv").read_text().splitlines()
        assert len(lines) >= 2, name
    assert len(drawn) == sum(len(c.FIGURES) for c in chapters.FIRST_HALF)


def test_the_scale_chart_plots_published_counts(measured):
    fig, rows = ch8_michelin.scale(measured[8], drawing.words("en"))
    bars = [patch.get_width() for patch in fig.axes[1].patches]
    squares = sorted(patch.get_width() ** 2 for patch in fig.axes[0].patches)  # areas to scale
    counts = sorted(m["published"] or m["formula"] for m in measured[8]["models"])
    assert squares == pytest.approx([c / counts[-1] for c in counts])
    assert bars[1:] == [m["published"] for m in measured[8]["models"][1:]]  # GPT-2 and GPT-3 as published
    assert bars[0] == measured[8]["models"][0]["formula"]  # Ming's count is exact
    shape, published = ch8_michelin.MICROGPT  # Karpathy's published count is what our formula gives his shape
    assert count_params(shape) == published
    assert measured[8]["models"][0]["published"] == (published if measured[8]["vocab"] == 27 else None)


def test_a_figure_is_drawn_again_only_when_what_it_shows_changed(measured, tmp_path):
    d = measured[8]
    first = gallery.draw({8: (d, {})}, tmp_path)[8]["scale"]
    stamp = first.stat().st_mtime_ns
    assert gallery.draw({8: (d, {})}, tmp_path)[8]["scale"].stat().st_mtime_ns == stamp  # same data: kept
    changed = dict(d, models=[dict(d["models"][0], formula=d["models"][0]["formula"] + 1)] + d["models"][1:])
    gallery.draw({8: (changed, {})}, tmp_path)
    assert first.stat().st_mtime_ns != stamp  # other data: drawn again
    assert str(d["models"][0]["formula"] + 1) in (tmp_path / "ch8-scale.csv").read_text()


def test_a_figure_is_laid_out_once_and_drawn_once_per_file_as_savefig_would(measured, tmp_path, monkeypatch):
    """draw_one lays a figure out itself, so each save draws it once (savefig alone draws a laid-out figure
    twice); the PNG is the very picture savefig's own layout gives, and the SVG has the PNG's ticks (they
    are made as each file is drawn, in the tour's style: its font size decides how many fit)."""
    import matplotlib
    from matplotlib.figure import Figure

    make, d = ch4_scorecard.penalty, measured[4]  # a log axis, a legend, notes by the points: work for the layout
    ticks = []
    real_draw = Figure.draw

    def draw(fig, renderer):
        real_draw(fig, renderer)
        ticks.append([label.get_text() for axis in (fig.axes[0].xaxis, fig.axes[0].yaxis)
                      for label in axis.get_ticklabels() if label.get_visible()])

    monkeypatch.setattr(Figure, "draw", draw)
    gallery.draw_one(make, d, "", tmp_path / "once")
    assert len(ticks) == 2 and ticks[0] == ticks[1]  # the PNG and the SVG, with the same ticks
    monkeypatch.setattr(Figure, "draw", real_draw)
    with matplotlib.rc_context(drawing.style("en")):
        fig, _ = make(d, drawing.words("en"))
        fig.savefig(tmp_path / "savefig.png", dpi=drawing.DPI)  # matplotlib lays it out as it saves
    once, plain = (matplotlib.image.imread(tmp_path / f) for f in ("once.png", "savefig.png"))
    assert once.shape == plain.shape and np.array_equal(once, plain)


def test_the_records_figure_counts_every_menu(kitchen, measured):
    d = measured[1]
    _, rows = ch1_records.records(d, drawing.words("en"))
    lengths = {r["courses"]: r["value"] for r in csv_rows(rows) if r["kind"] == "menus_of_this_length"}
    assert sum(lengths.values()) == d["n_docs"] == len(WORDS)
    assert lengths == {n: sum(len(w) == n for w in WORDS) for n in {len(w) for w in WORDS}}
    # the title's share: the menus within one course of the commonest length
    assert sum(c for n, c in lengths.items() if abs(n - d["mode"]) <= 1) == d["near_mode"]
    assert lengths[d["mode"]] == max(lengths.values())
    sample = [r["value"] for r in csv_rows(rows) if r["kind"] == "sample_menu"]
    assert sample == kitchen.run.train_docs[: ch1_records.RECORD_SAMPLE] and set(sample) <= set(WORDS)


def test_the_card_map_has_one_point_per_course_and_measured_distances(kitchen, measured):
    d = measured[2]
    _, rows = ch2_courses.card_map(d, drawing.words("en"))
    points = csv_rows(rows)
    for when in ("before", "after"):
        mine = [r for r in points if r["when"] == when]
        assert [r["course"] for r in mine] == d["labels"]  # one point per course, each labelled
        xy = np.array([[r["x"], r["y"]] for r in mine])
        assert np.allclose(xy.mean(0), 0) and xy[:, 0].var() >= xy[:, 1].var()  # PCA: centred, widest first
        assert 0 < d[f"map_{when}"]["kept"] <= 1
    assert {r["course"] for r in points if r["vowel"]} == set(d["vowels"]) == set("aeiou")
    # the distances in the titles, recomputed from the cards themselves
    cards = np.array(d["cards_after"])
    index = {label: i for i, label in enumerate(d["labels"])}
    vowels = [index[v] for v in d["vowels"]]
    consonants = [i for i, label in enumerate(d["labels"]) if label.isalpha() and label not in "aeiou"]
    among = [np.linalg.norm(cards[a] - cards[b]) for a in vowels for b in vowels if a < b]
    between = [np.linalg.norm(cards[v] - cards[c]) for v in vowels for c in consonants]
    far = d["vowel_distances"]["after"]
    assert far["among_vowels"] == pytest.approx(np.mean(among))
    assert far["vowel_consonant"] == pytest.approx(np.mean(between))


def test_the_assembly_line_figure_shows_the_traced_numbers(kitchen, measured):
    d = measured[3]
    _, rows = ch3_assembly_line.assembly_line(d, drawing.words("en"))
    sizes = [r["size"] for r in csv_rows(rows) if r["station"] != "vote"]
    # the line's sizes, in the order a course meets them: the story's numbers
    assert sizes == [d["embedding"], d["cleansed"], d["added"], d["after_attention"], d["mlp_added"], d["after_mlp"]]
    assert [r["size"] for r in csv_rows(rows) if r["station"] == "vote"] == [f"{c}: {p}" for c, p in d["vote"]]
    # the supporting roles: every cleanser, every spoonful, the stock; a cleanser's output always has one size
    _, rows = ch3_assembly_line.supporting_roles(d, drawing.words("en"))
    assert [r["size"] for r in csv_rows(rows)] == [d["embedding"], d["cleansed"], d["before_roundtable"], d["added"],
                                                    d["after_attention"], d["before_back_kitchen"], d["mlp_added"],
                                                    d["after_mlp"]]
    n = kitchen.config.n_embd
    for cleansed in (d["cleansed"], d["before_roundtable"], d["before_back_kitchen"]):
        assert cleansed == pytest.approx(math.sqrt(n), rel=1e-2)  # every number about 1 in size: sqrt(n) in all


def test_the_back_kitchen_is_measured_over_many_courses(kitchen, measured):
    d = measured[3]
    typical = d["typical"]
    assert 0 < typical["share"] < 1 and typical["width"] == d["width"]
    docs = (kitchen.run.val_docs or kitchen.run.train_docs)[: ch3_assembly_line.TYPICAL_NAMES]
    assert typical["menus"] == len(docs)
    assert len(typical["passed"]) == sum(min(len(kitchen.run.encode(doc)) - 1, kitchen.config.block_size)
                                         for doc in docs)  # every course of every menu
    _, rows = ch3_assembly_line.back_kitchen_typical(d, drawing.words("en"))
    counts = {r["ideas_passed"]: r["courses"] for r in csv_rows(rows)}
    assert sum(counts.values()) == len(typical["passed"])
    assert sum(i * c for i, c in counts.items()) / (len(typical["passed"]) * d["width"]) == pytest.approx(
        typical["share"])


def test_the_dial_wall_holds_every_dial_once(kitchen, measured):
    from omakase.config import params_per_block

    d = measured[5]
    _, rows = ch5_tracing.dial_wall(d, drawing.words("en"))
    dials = csv_rows(rows)
    assert len(dials) == count_params(kitchen.config)
    per_station = {}
    for r in dials:
        per_station[r["station"]] = per_station.get(r["station"], 0) + 1
    assert per_station == params_per_block(kitchen.config)
    params = kitchen.ming.final.params
    assert all(r["value"] == params[r["matrix"]][r["row"]][r["column"]] for r in dials)  # colour = the dial's value
    ringed = sorted((r for r in dials if r["influence_rank"]), key=lambda r: r["influence_rank"])
    assert [f"{r['matrix']}[{r['row']}][{r['column']}]" for r in ringed] == [name for name, _, _ in d["dials"]]


def test_the_trace_chain_relay_and_nudge_are_computed(measured):
    d = measured[5]
    assert d["relay"]["influence"] == d["relay"]["first"] * d["relay"]["second"] == 6  # traced, not written
    _, rows = ch5_tracing.trace_chain(d, drawing.words("en"))
    values = {r["quantity"]: r["value"] for r in csv_rows(rows)}
    assert (values["salt"], values["sugar"], values["blend"], values["taste"]) == (2, 3, 6, 8)
    assert (values["d_salt"], values["d_sugar"], values["relay_influence"]) == (4, 2, 6)
    _, rows = ch5_tracing.nudge_test(d, drawing.words("en"))
    (nudge,) = csv_rows(rows)
    assert nudge["dial"] == d["dials"][0][0] and nudge["measured_change"] == d["nudged_change"]
    assert nudge["measured_change"] == pytest.approx(nudge["influence"] * nudge["nudge"], rel=0.05)


def test_adam_is_compared_with_plain_sgd_from_the_same_start(kitchen, measured):
    from omakase.baseline import baseline_losses

    d = measured[6]
    v = d["versus"]
    assert len(v["sgd"]) == v["steps"] == min(ch6_training.SGD_STEPS, SMALL.steps)
    assert v["sgd"][0] == d["losses"][0]  # same start, same first menu: the same first penalty
    assert v["sgd"][1:] != d["losses"][1 : v["steps"]]  # then another sensei
    assert ch6_training.PlainSGD().rule(1.0, 2.0, 0.0, 0.0, 0.1, 1) == (1.0 - 0.1 * 2.0, 0.0, 0.0)
    run = kitchen.run
    assert v["baselines"] == baseline_losses([run.encode(w) for w in run.train_docs],
                                             [run.encode(w) for w in run.val_docs],
                                             kitchen.config.vocab_size, kitchen.config.block_size)
    assert v["article"] == []  # WORDS is not names.txt
    _, rows = ch6_training.adam_vs_sgd(d, drawing.words("en"))
    series = csv_rows(rows)
    sgd = [r["value"] for r in series if r["series"] == "sgd_running_mean"]
    assert len(sgd) == v["steps"] and sgd[-1] == pytest.approx(v["sgd_mean"])
    assert {r["series"]: r["value"] for r in series if r["series"].endswith("_table_held_out")} == {
        f"{name}_table_held_out": loss for name, loss in v["baselines"].items()}
    answer = ch6_training.question(d, story.Catalogue("en"))[1]
    assert f"{v['sgd_mean']:.2f} against Adam's {v['adam_mean']:.2f}" in answer
    assert ("Higher" in answer) == (v["adam_mean"] < v["sgd_mean"])
    # the same number of dishes for both lines, each labelled where it ends
    adam = [r["value"] for r in series if r["series"] == "adam_running_mean"]
    assert len(adam) == len(sgd) == v["steps"]


def test_names_under_each_temperature_are_the_ones_cooked_at_it(measured):
    d = measured[7]
    dist = d["distribution"]
    cooked = {m["temperature"]: m["names"] for m in d["menus"]}
    assert dist["names"] == [cooked[t][:3] for t in dist["temperatures"]]
    _, rows = ch7_graduation.temperature(d, drawing.words("en"))
    assert rows[-1] == ["cooked"] + [" ".join(names) for names in dist["names"]]


@pytest.mark.parametrize("lang", story.LANGUAGES)
def test_every_figure_has_its_place_in_the_story(measured, lang):
    t = story.Catalogue(lang)
    for n, d in measured.items():
        blocks = chapters.tell(n, d, t).blocks
        shown = [b.name for b in blocks if isinstance(b, story.Figure)]
        assert sorted(shown) == sorted(f.__name__ for f in CHAPTERS[n - 1].FIGURES) and all(
            b.alt for b in blocks if isinstance(b, story.Figure)), n
        # a figure that would give the question away comes after the answer
        asked = next(i for i, b in enumerate(blocks) if isinstance(b, story.Question))
        revealed = [b.name for b in blocks[asked:] if isinstance(b, story.Figure)]
        assert revealed == {1: ["order"], 3: ["attention", "supporting_roles", "back_kitchen",
                                               "back_kitchen_typical"], 5: ["nudge_test"], 6: ["adam_vs_sgd"],
                            7: ["temperature"], 8: ["scale"]}.get(n, []), n


def test_chinese_figures_are_labelled_in_chinese_when_the_font_is_there(measured, tmp_path, monkeypatch):
    monkeypatch.setattr(drawing, "has_cjk_font", lambda: True)
    assert drawing.figure_language("zh") == "zh"
    png = gallery.draw({8: (measured[8], {})}, tmp_path, lang=drawing.figure_language("zh"))[8]["scale"]
    words = svg_text(png.with_suffix(".svg"))
    assert "面积按比例" in words and "阿明" in words and "areas to scale" not in words
    english = gallery.draw({8: (measured[8], {})}, tmp_path / "en", lang="en")[8]["scale"]
    assert "areas to scale" in svg_text(english.with_suffix(".svg"))


def test_every_figure_word_is_in_both_catalogues_and_draws_in_chinese(measured, tmp_path):
    """Each figure drawn with the Chinese words: a missing key or placeholder fails here, not in a reader's tour."""
    drawn = gallery.draw({n: (d, {}) for n, d in measured.items()}, tmp_path, workers=2, lang="zh")
    assert sum(len(names) for names in drawn.values()) == sum(len(c.FIGURES) for c in chapters.FIRST_HALF)
    for names in drawn.values():
        for png in names.values():
            text = svg_text(png.with_suffix(".svg"))
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), png.name  # Chinese words on every figure
            assert "bell" not in text, png.name  # the bell is named in Chinese too


def test_a_change_to_a_chapters_code_redraws_its_figures_only(measured, tmp_path, monkeypatch):
    chapters_drawn = {7: (measured[7], {}), 8: (measured[8], {})}
    first = gallery.draw(chapters_drawn, tmp_path)
    stamps = {name: png.stat().st_mtime_ns for names in first.values() for name, png in names.items()}
    code = Path(ch8_michelin.__file__).read_bytes()  # read once, as a tour reads it
    monkeypatch.setitem(gallery._sources, ch8_michelin.__file__, code + b"\n# changed")
    again = gallery.draw(chapters_drawn, tmp_path)
    assert again[7]["temperature"].stat().st_mtime_ns == stamps["temperature"]  # chapter 7's code is the same
    assert again[8]["scale"].stat().st_mtime_ns != stamps["scale"]
    monkeypatch.setitem(gallery._sources, gallery.__file__, Path(gallery.__file__).read_bytes() + b"\n# changed")
    stamps = {name: png.stat().st_mtime_ns for names in again.values() for name, png in names.items()}
    again = gallery.draw(chapters_drawn, tmp_path)  # a change to how every figure is saved redraws them all
    assert all(png.stat().st_mtime_ns != stamps[name] for names in again.values() for name, png in names.items())


def test_measuring_and_keeping_figures_import_no_matplotlib():
    """matplotlib is imported only to draw: a tour whose figures are all kept never pays for it."""
    import subprocess
    import sys

    code = ("import sys; import omakase.cli.tour, omakase.tour.gallery, omakase.tour.chapters; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"
