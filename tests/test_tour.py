"""The tour: every chapter's numbers on a small Ming, the figures, the page, the catalogues, the command."""

import math
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from omakase import train as training
from omakase.autograd import TECHNIQUES
from omakase.cli import main
from omakase.cli.tour import default_engine
from omakase.config import count_params, param_shapes
from omakase.tour import chapters, drawing, gallery, report, story
from omakase.tour.chapters import (CHAPTERS, ch1_records, ch2_courses, ch3_assembly_line, ch4_scorecard, ch5_tracing,
                                   ch6_training, ch7_graduation, ch8_michelin)
from omakase.tour.ming import prepare

# Made-up words, no "emma" among them: the tour must pick its own example and say so.
WORDS = ["zorp", "blick", "mava", "tessa", "quill", "ronda", "fipo", "garu", "hemi", "jolt", "kivo", "lumen",
         "nari", "opal", "prue", "sable", "tovi", "urla", "vesk", "wyn", "yara", "zeno", "bramo", "cilla",
         "dovi", "elko", "fenna", "gilt", "hollo", "ivra", "jessa", "kora", "lind", "moss", "nello", "orin"]
SMALL = training.Plan(steps=30, lr=0.01, batch_size=1, warmup=0, seed=42)


@pytest.fixture(scope="module")
def words(tmp_path_factory):
    path = tmp_path_factory.mktemp("words") / "words.txt"
    path.write_text("\n".join(WORDS) + "\n")
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """The tour caches Ming under the user cache; keep the tests' Mings out of the real one."""
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def kitchen(words, cache):
    return chapters.open_kitchen(prepare(str(words), None, default_engine(), plan=SMALL))


@pytest.fixture(scope="module")
def measured(kitchen):
    return chapters.measure(kitchen, list(range(1, 9)))


@pytest.fixture(scope="module")
def drawn(measured, tmp_path_factory):
    """Every chapter's figures, drawn once: {(chapter, figure name): PNG path}."""
    out = tmp_path_factory.mktemp("figures")
    drawn = gallery.draw({n: (d, {}) for n, d in measured.items()}, out, workers=2)  # as the tour draws them
    return {(n, name): png for n, names in drawn.items() for name, png in names.items()}


def test_the_example_comes_from_the_data_when_emma_is_not_there(kitchen, measured):
    assert kitchen.example in WORDS and kitchen.example != "emma"
    d = measured[1]
    assert d["n_docs"] == len(WORDS) and d["n_train"] + d["n_val"] == len(WORDS)
    assert d["reversed"] == kitchen.example[::-1]
    told = story.tell(1, d, story.Catalogue("en"))
    assert any(f'"{kitchen.example}"' in b.text and "emma" in b.text for b in told.blocks if isinstance(b, story.Para))


def test_courses_are_numbered_and_framed_by_the_bell(kitchen, measured):
    d = measured[2]
    tok = kitchen.tokenizer
    assert d["tokens"] == tok.encode(kitchen.example) and d["tokens"][0] == d["tokens"][-1] == tok.bos
    assert len(d["card_before"]) == len(d["card_after"]) == kitchen.config.n_embd
    assert d["card_before"] != d["card_after"]  # training moved the card
    assert all(-1 <= cos <= 1 for _, _, cos in d["alike"])


def test_each_sous_chef_shares_exactly_all_attention(measured):
    d = measured[3]
    assert len(d["attention"]) == d["n_head"]
    for weights in d["attention"]:
        assert len(weights) == len(d["served"])
        assert sum(weights) == pytest.approx(1.0)
    assert d["width"] == 4 * d["n_embd"] and 0 <= d["passed"] <= d["width"]
    assert d["passed"] == sum(x > 0 for x in d["mlp_pre"])
    assert d["cleansed"] == pytest.approx(math.sqrt(d["n_embd"]), rel=1e-3)  # RMSNorm: every entry ~1 on average
    assert sum(p for _, p in d["vote"]) <= 1 and d["vote"] == sorted(d["vote"], key=lambda v: -v[1])


def test_the_scorecard_is_computed_not_quoted(kitchen, measured):
    d = measured[4]
    assert [pen for _, pen in d["penalties"]] == pytest.approx([0.0, 2.302585, 6.907755], abs=1e-6)
    assert d["blind"] == pytest.approx(math.log(kitchen.tokenizer.vocab_size))
    assert d["step1"] == kitchen.ming.final.run["losses"][0]
    assert d["penalty"] == pytest.approx(-math.log(d["p_truth"]))


def test_the_worked_example_and_six_techniques(kitchen, measured):
    d = measured[5]
    w = d["worked"]
    assert (w["salt"], w["sugar"], w["blend"], w["taste"], w["d_salt"], w["d_sugar"]) == (2, 3, 6, 8, 4, 2)
    assert d["kinds"] == sorted(TECHNIQUES) and all(d["techniques"][t] > 0 for t in TECHNIQUES)
    assert len(d["dials"]) == 5
    grads = [abs(g) for _, _, g in d["dials"]]
    assert grads == sorted(grads, reverse=True) and grads[0] > 0
    assert all(0 <= index < count_params(kitchen.config) for _, index, _ in d["dials"])
    fig, rows = ch5_tracing.techniques(d, drawing.words("en"))
    assert fig.axes[0].get_yscale() == "linear"  # the counts on a linear scale, their sizes compared as they are
    assert dict(rows[1:]) == d["techniques"]


def test_training_stages_and_adams_habits(kitchen, measured):
    d = measured[6]
    assert [s["step"] for s in d["stages"]] == [1, SMALL.steps]
    assert d["stages"][0]["running_mean"] == d["losses"][0]
    assert all(s["val"] is not None and len(s["names"]) == ch6_training.NAMES_PER_STAGE for s in d["stages"])
    # Adam's memory as the tour records it is exactly the m the engine kept for that dial.
    memory = d["memory"]
    m = np.concatenate([np.ravel(kitchen.ming.final.moments[0][n]) for n, _ in param_shapes(kitchen.config)])
    assert memory["momentum"][-1] == pytest.approx(m[memory["dial"]], rel=1e-9)
    assert memory["std_m"] < memory["std_g"]
    assert d["spread"]["x90"] >= d["spread"]["x10"] > 0


def test_graduation_and_scale(kitchen, measured):
    d = measured[7]
    assert d["greedy_same"]
    assert [m["temperature"] for m in d["menus"]] == list(ch7_graduation.TEMPERATURES)
    assert all(0 <= m["invented"] <= m["n"] for m in d["menus"])
    assert all(sum(p) == pytest.approx(1.0) for p in d["distribution"]["probs"])
    models = {m["name"]: m for m in measured[8]["models"]}
    assert models["Ming"]["formula"] == count_params(kitchen.config)
    assert models["GPT-3"]["formula"] == pytest.approx(175e9, rel=0.01)


def test_figures_are_images_with_their_data(drawn):
    for (n, name), png in drawn.items():
        assert png.name == f"ch{n}-{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert ET.parse(png.with_suffix(".svg")).getroot().tag.endswith("svg")
        lines = png.with_suffix(".csv").read_text().splitlines()
        assert len(lines) >= 2, name
    assert len(drawn) == sum(len(c.FIGURES) for c in CHAPTERS)


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.srcs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.srcs += [value for key, value in attrs if key in ("src", "href") and not value.startswith("#")]


@pytest.mark.parametrize("lang", story.LANGUAGES)
def test_the_page_is_self_contained(measured, drawn, lang):
    t = story.Catalogue(lang)
    told = [story.tell(n, d, t) for n, d in measured.items()]
    html = report.page(t, ["intro"], told, drawn, story.metaphor_map(t))
    assert "http://" not in html and "https://" not in html and "<script" not in html
    parser = Tags()
    parser.feed(html)
    assert not parser.srcs  # nothing to fetch: figures are SVG elements of the page
    assert parser.tags.count("section") == 9 and parser.tags.count("svg") == len(drawn) and "img" not in parser.tags
    assert len(html.encode()) < 1_000_000
    assert 'name="viewport"' in html and f'lang="{lang}"' in html


def test_both_catalogues_have_the_same_keys_and_placeholders():
    en, zh = story.Catalogue("en").entries, story.Catalogue("zh").entries
    assert set(en) == set(zh)
    for key in en:
        assert story.placeholders(en[key]) == story.placeholders(zh[key]), key
        assert zh[key].strip(), key


def test_the_cache_is_reused_and_retrain_ignores_it(words, cache, kitchen):
    again = prepare(str(words), None, default_engine(), plan=SMALL)
    assert again.origin == "cached" and again.final.params == kitchen.ming.final.params
    assert again.record["watched"] == kitchen.ming.record["watched"]
    fresh = prepare(str(words), None, default_engine(), retrain=True, plan=SMALL)
    assert fresh.origin == "trained" and fresh.final.params == kitchen.ming.final.params


def test_a_remembered_measurement_is_read_back_by_the_next_tour(words, cache, kitchen):
    calls = []

    def compute():
        calls.append(1)
        return {"loss": 1 / 3, "pair": (1, 2)}

    first = kitchen.ming.remember("example", compute)
    again = prepare(str(words), None, default_engine(), plan=SMALL).remember("example", compute)
    assert first == again == {"loss": 1 / 3, "pair": [1, 2]} and len(calls) == 1  # both as JSON gives it back
    assert (Path(kitchen.ming.where) / "example.json").is_file()


def test_a_tour_of_a_custom_dataset_through_the_command(words, cache, tmp_path, capsys):
    out, page = tmp_path / "figs", tmp_path / "tour.html"
    assert main(["tour", "--data", str(words), "--out", str(out), "--html", str(page)]) == 0
    text = capsys.readouterr().out
    assert "emma" in text and "8 · From cart to Michelin" in text
    assert len(list(out.glob("*.png"))) == sum(len(c.FIGURES) for c in CHAPTERS)
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    body = html[html.index("<body>"):]  # the style sheet has its own "--" (CSS variables)
    assert " --" not in body and str(tmp_path) not in body and ".cache" not in body  # no flags, no local paths
    assert main(["tour", "--data", str(words), "--out", str(out), "--html", str(page)]) == 2  # no silent overwrite
    assert "--force" in capsys.readouterr().err


def test_a_tour_of_a_saved_checkpoint_in_chinese(words, cache, tmp_path, capsys):
    ckpt = tmp_path / "mine.json"
    assert main(["train", "--data", str(words), "--steps", "20", "--out", str(ckpt), "--keep-at", "1,10",
                 "--samples", "0"]) == 0
    capsys.readouterr()
    assert main(["tour", "--checkpoint", str(ckpt), "--data", str(words), "--chapter", "6", "--lang", "zh",
                 "--out", str(tmp_path / "figs")]) == 0
    text = capsys.readouterr().out
    assert "第六章" in text and str(ckpt) in text
    assert list((tmp_path / "figs").glob("ch6-*.png")) and not list((tmp_path / "figs").glob("ch1-*"))


@pytest.mark.parametrize("args", [["--lang", "fr"], ["--chapter", "9"], ["--engine", "abacus"]])
def test_bad_options_are_one_clear_line(args, capsys):
    assert main(["tour", *args]) == 2
    assert capsys.readouterr().err.startswith("omakase: error:")



def told(measured, lang="en") -> str:
    """Every sentence of the tour, as one text."""
    t = story.Catalogue(lang)
    return "\n".join(b.text for n, d in measured.items() for b in story.tell(n, d, t).blocks
                     if isinstance(b, story.Para))


def test_ratios_are_computed_never_written_by_hand(measured):
    d = measured[8]
    assert d["factor"] == 175e9 / d["models"][0]["formula"]  # GPT-3's published count over Ming's
    text = told(measured)
    assert f"{d['factor']:,.0f} times" in text and "billions of times" not in text
    for lang in ("en", "zh"):
        assert "billions" not in story.Catalogue(lang).entries["map.scale.breaks"]


def test_sentences_that_were_wrong_stay_fixed(measured):
    text = told(measured)
    for wrong in ("a believable dish that never existed", "different moment", "usually sits near", "raw ingredients",
                  "end up with similar cards", "just now", "many end with its last"):
        assert wrong not in text, wrong
    assert "studied {0:,} of them".format(measured[1]["seen"]) in text  # what the run saw, from the plan
    assert story.Catalogue("en").entries["ch4.article_tenth_of_one"] == "massive"  # the article's own word
    assert "karpathy.github.io/2026/02/12/microgpt" in story.Catalogue("en").entries["tour.intro"]


def test_the_first_dish_is_close_to_the_blindfold_only_when_it_is(measured):
    d = dict(measured[4])
    for step1, word in ((d["blind"] + 0.05, "close to"), (d["blind"] + 0.5, "more than"), (d["blind"] - 0.5, "less than")):
        d["step1"] = step1
        paras = [b.text for b in story.tell(4, d, story.Catalogue("en")).blocks if isinstance(b, story.Para)]
        assert any(word in p for p in paras)


def test_cards_alike_are_measured_against_the_random_cards(measured):
    d = measured[2]
    a, b, cosine = d["alike_before"]
    assert f"{a} and {b} ({cosine:.2f})" in told(measured)  # the untrained baseline is told beside the trained pairs


def test_the_scale_chart_plots_published_counts(measured):
    fig, rows = ch8_michelin.scale(measured[8], drawing.words("en"))
    bars = [patch.get_width() for patch in fig.axes[0].patches]
    assert bars[1:] == [m["published"] for m in measured[8]["models"][1:]]  # GPT-2 and GPT-3 as published
    assert bars[0] == measured[8]["models"][0]["formula"]  # Ming's count is exact
    shape, published = ch8_michelin.MICROGPT  # Karpathy's published count is what our formula gives his shape
    assert count_params(shape) == published
    assert measured[8]["models"][0]["published"] == (published if measured[8]["vocab"] == 27 else None)


@pytest.mark.parametrize("lang", story.LANGUAGES)
def test_every_chapter_ends_with_a_question_answered_by_the_model(measured, drawn, lang):
    t = story.Catalogue(lang)
    told = [story.tell(n, d, t) for n, d in measured.items()]
    for chapter in told:
        questions = [b for b in chapter.blocks if isinstance(b, story.Question)]
        assert len(questions) == 1 and questions[0].text and questions[0].answer, chapter.number
        assert all(q.answer not in b.text for q in questions for b in chapter.blocks if isinstance(b, story.Para))
    html = report.page(t, ["intro"], told, drawn, story.metaphor_map(t))
    assert html.count('<details class="question">') == len(told) and "<script" not in html


def test_question_answers_are_computed_from_the_chapter(measured):
    t = story.Catalogue("en")
    d1 = measured[1]
    assert f"{sum(len(w) > len(d1['example']) for w in WORDS):,} of them" in ch1_records.question(d1, t)[1]
    d6 = dict(measured[6], losses=[3.0] + [1.0] * 9)  # halfway to the best dish is 2.0: crossed at dish 3
    assert ch6_training.question(d6, t)[1].startswith("After 3 dishes")
    d5 = measured[5]
    name, _, influence = d5["dials"][0]
    assert f"goes {'up' if influence > 0 else 'down'}" in ch5_tracing.question(d5, t)[1]
    # the nudge test is measured, and backpropagation's influence predicts it (to first order)
    assert d5["nudged_change"] == pytest.approx(influence * d5["nudge"], rel=0.05)


def test_a_tour_without_a_terminal_prints_each_question_then_its_answer(words, cache, tmp_path, capsys):
    assert main(["tour", "--data", str(words), "--chapter", "4", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert text.index("Predict") < text.index("Answer:") and "0.69" in text


def test_on_other_data_the_articles_names_numbers_are_left_out(measured):
    """WORDS is not names.txt: the article's vote, growth curve and quoted names are about names.txt only."""
    assert measured[3]["article_vote"] == [] and measured[7]["article_names"] == []
    assert all(stage["article"] is None for stage in measured[6]["stages"])
    text = told(measured)
    assert "karia" not in text and "illustration, not measured" not in text and "article's" not in text
    growth = next(b for b in story.tell(6, measured[6], story.Catalogue("en")).blocks if isinstance(b, story.Table))
    assert len(growth.headers) == 3  # no column of the article's numbers, which are for names.txt
    names = {**measured[6], "stages": [dict(s, article="2.37") for s in measured[6]["stages"]]}
    assert "the article's growth curve" in "\n".join(
        b.text for b in story.tell(6, names, story.Catalogue("en")).blocks if isinstance(b, story.Para))


def test_menus_longer_than_the_block_are_counted_not_cut_silently(measured):
    d = dict(measured[1], too_long=2, block=16)
    paras = [b.text for b in story.tell(1, d, story.Catalogue("en")).blocks if isinstance(b, story.Para)]
    assert any("2 of the menus are longer than Ming's block of 16" in p for p in paras)
    assert measured[1]["too_long"] == sum(len(w) + 1 > measured[1]["block"] for w in WORDS)


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


def csv_rows(rows: list[list]) -> list[dict]:
    """A figure's CSV rows (header first) as dicts."""
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def test_the_records_figure_counts_every_menu(kitchen, measured):
    d = measured[1]
    _, rows = ch1_records.records(d, drawing.words("en"))
    lengths = {r["courses"]: r["value"] for r in csv_rows(rows) if r["kind"] == "menus_of_this_length"}
    assert sum(lengths.values()) == d["n_docs"] == len(WORDS)
    assert lengths == {n: sum(len(w) == n for w in WORDS) for n in {len(w) for w in WORDS}}
    assert sum(c for n, c in lengths.items() if n > d["example_courses"]) == d["longer"]  # what the title says
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
    by_station = {}
    for r in csv_rows(rows):
        by_station.setdefault(r["station"], []).append(r["value"])
    for key in ("embedding", "cleansed", "after_attention", "after_mlp"):
        assert len(by_station[key]) == kitchen.config.n_embd
        assert math.dist(by_station[key], [0] * kitchen.config.n_embd) == pytest.approx(d[key])  # the story's sizes
    assert by_station["vote"] == [p for _, p in d["vote"]]
    # the supporting roles: every size the chart shows is the data's, and each spoonful is a real difference
    _, rows = ch3_assembly_line.supporting_roles(d, drawing.words("en"))
    assert [r["size"] for r in csv_rows(rows)] == [d["embedding"], d["cleansed"], d["added"], d["after_attention"],
                                                    d["mlp_added"], d["after_mlp"]]
    s = d["stations"]
    assert d["added"] == pytest.approx(math.dist(s["after_attention"], s["cleansed"]))
    assert d["mlp_added"] == pytest.approx(math.dist(s["after_mlp"], s["after_attention"]))


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
    assert f"his running mean is {v['sgd_mean']:.2f} with the plain sensei and {v['adam_mean']:.2f} with Adam" in told(
        measured)


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
        blocks = story.tell(n, d, t).blocks
        shown = [b.name for b in blocks if isinstance(b, story.Figure)]
        assert sorted(shown) == sorted(f.__name__ for f in CHAPTERS[n - 1].FIGURES) and all(
            b.alt for b in blocks if isinstance(b, story.Figure)), n
        # a figure that would give the question away comes after the answer
        asked = next(i for i, b in enumerate(blocks) if isinstance(b, story.Question))
        revealed = [b.name for b in blocks[asked:] if isinstance(b, story.Figure)]
        assert revealed == {1: ["records"], 5: ["nudge_test"]}.get(n, []), n


def test_the_master_and_the_sensei_have_distinct_names_in_chinese():
    zh = story.Catalogue("zh").entries
    assert "老主厨" in zh["k.records"] and "亚当老师" in zh["map.adam.kitchen"]
    assert not any("师父" in text for text in zh.values())  # once both were 师父


@pytest.mark.parametrize("lang", story.LANGUAGES)
def test_the_terminal_tour_fits_80_columns(measured, lang):
    """Prose wraps and tables fit at 80 columns; a Chinese character takes two of them (rich's cell_len)."""
    import io

    from rich.cells import cell_len
    from rich.console import Console

    from omakase.tour import telling

    t = story.Catalogue(lang)
    console = Console(file=io.StringIO(), width=80, color_system=None)
    for n, d in measured.items():
        telling.print_chapter(console, story.tell(n, d, t), t, {})
    console.print(telling.rich_table(story.metaphor_map(t)))
    lines = console.file.getvalue().splitlines()
    assert any("┃" in line for line in lines)  # tables were printed
    too_wide = [line for line in lines if cell_len(line.rstrip()) > 80]
    assert not too_wide, too_wide[:3]
    # a table squeezed past its width is cut at the right edge: every row of every table must close
    rows = [line.rstrip() for line in lines if line.startswith(("┃", "│", "┏", "┡", "└"))]
    cut = [row for row in rows if not row.endswith(("┃", "│", "┓", "┩", "┘"))]
    assert not cut, cut[:3]


def svg_text(path) -> str:
    """Every word written in an SVG figure (the tour keeps its text as text: svg.fonttype none)."""
    return " ".join(t.text or "" for t in ET.parse(path).iter() if t.tag.endswith("text"))


def test_chinese_figures_are_labelled_in_chinese_when_the_font_is_there(measured, tmp_path, monkeypatch):
    monkeypatch.setattr(drawing, "has_cjk_font", lambda: True)
    assert drawing.figure_language("zh") == "zh"
    png = gallery.draw({8: (measured[8], {})}, tmp_path, lang=drawing.figure_language("zh"))[8]["scale"]
    words = svg_text(png.with_suffix(".svg"))
    assert "从小吃车到米其林" in words and "阿明" in words and "From cart to Michelin" not in words
    english = gallery.draw({8: (measured[8], {})}, tmp_path / "en", lang="en")[8]["scale"]
    assert "From cart to Michelin" in svg_text(english.with_suffix(".svg"))


def test_without_a_cjk_font_chinese_figures_fall_back_to_english_with_one_notice(words, cache, tmp_path, capsys,
                                                                                  monkeypatch):
    monkeypatch.setattr(drawing, "has_cjk_font", lambda: False)
    assert drawing.figure_language("zh") == "en" and drawing.figure_language("en") == "en"
    out = tmp_path / "figs"
    assert main(["tour", "--data", str(words), "--chapter", "8", "--lang", "zh", "--out", str(out)]) == 0
    text = capsys.readouterr().out.replace("\n", "")  # the notice wraps like any prose
    assert text.count("fonts-noto-cjk") == 1
    assert "From cart to Michelin" in svg_text(out / "ch8-scale.svg")
    assert main(["tour", "--data", str(words), "--chapter", "8", "--out", str(out)]) == 0
    assert "fonts-noto-cjk" not in capsys.readouterr().out.replace("\n", "")  # English needs no notice


def test_every_figure_word_is_in_both_catalogues_and_draws_in_chinese(measured, tmp_path):
    """Each figure drawn with the Chinese words: a missing key or placeholder fails here, not in a reader's tour."""
    drawn = gallery.draw({n: (d, {}) for n, d in measured.items()}, tmp_path, workers=2, lang="zh")
    assert sum(len(names) for names in drawn.values()) == sum(len(c.FIGURES) for c in CHAPTERS)
    for names in drawn.values():
        for png in names.values():
            text = svg_text(png.with_suffix(".svg"))
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), png.name  # Chinese words on every figure
            assert "bell" not in text, png.name  # the bell is named in Chinese too


def test_one_adam_step_on_one_menu_lowers_its_penalty(kitchen, measured):
    one = measured[6]["one_step"]
    assert one["example"] == kitchen.example and len(one["before"]) == len(kitchen.example) + 1  # its courses, bell
    assert one["penalty_after"] < one["penalty_before"]
    assert one["before"] != one["after"] and kitchen.ming.final.params == kitchen.run.checkpoint().params  # a copy
    _, rows = ch6_training.adam_step(measured[6], drawing.words("en"))
    penalties = csv_rows(rows)
    assert sum(float(r["penalty_after"]) for r in penalties) / len(penalties) == pytest.approx(one["penalty_after"])


def test_only_the_terminal_says_how_to_keep_snapshots(words, cache, tmp_path, capsys):
    ckpt, page = tmp_path / "final-only.json", tmp_path / "tour.html"
    assert main(["train", "--data", str(words), "--steps", "20", "--out", str(ckpt), "--samples", "0"]) == 0
    capsys.readouterr()
    assert main(["tour", "--checkpoint", str(ckpt), "--data", str(words), "--chapter", "6",
                 "--out", str(tmp_path / "figs"), "--html", str(page)]) == 0
    assert "--keep-at" in capsys.readouterr().out.replace("\n", " ")
    assert "keep-at" not in page.read_text(encoding="utf-8")  # the page never tells its reader to pass a flag


def test_chapters_are_one_module_each_in_order(measured):
    """CHAPTERS is every chapter module in the order told, each with its measurement, story, question, figures."""
    import pkgutil

    from omakase.tour import chapters as package

    modules = sorted((int(m.name[2:].split("_")[0]), m.name) for m in pkgutil.iter_modules(package.__path__))
    assert [c.__name__.rsplit(".", 1)[1] for c in CHAPTERS] == [name for _, name in modules]  # none left out
    assert [number for number, _ in modules] == list(range(1, len(CHAPTERS) + 1))  # ch1_, ch2_, ... in order
    entries = story.Catalogue("en").entries
    assert all(f"ch{n}.title" in entries and f"ch{n}.summary" in entries for n in range(1, len(CHAPTERS) + 1))
    assert f"ch{len(CHAPTERS) + 1}.title" not in entries
    names = [make.__name__ for c in CHAPTERS for make in c.FIGURES]
    assert len(names) == len(set(names))  # a figure's name is its file's: unique in the tour
    for n, chapter in enumerate(CHAPTERS, 1):
        assert callable(chapter.measure) and callable(chapter.tell) and callable(chapter.question), n
        assert chapter.FIGURES and all(callable(make) for make in chapter.FIGURES), n
        told = story.tell(n, measured[n], story.Catalogue("en"))
        assert told.title.startswith(f"{n} ·")
        assert [b for b in told.blocks if isinstance(b, story.Question)] == [
            story.Question(*chapter.question(measured[n], story.Catalogue("en")))]


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


def test_the_scorecard_scores_chapter_3s_moment(measured):
    assert (measured[4]["truth"], measured[4]["p_truth"]) == (measured[3]["truth"], measured[3]["p_truth"])


def test_measuring_and_keeping_figures_import_no_matplotlib():
    """matplotlib is imported only to draw: a tour whose figures are all kept never pays for it."""
    import subprocess
    import sys

    code = ("import sys; import omakase.cli.tour, omakase.tour.gallery, omakase.tour.chapters; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"
