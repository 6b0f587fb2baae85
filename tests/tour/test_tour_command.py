"""`omakase tour` as a user runs it: the cache, the catalogues, the terminal, other data and checkpoints."""

from pathlib import Path

import pytest

from omakase.cli import main
from omakase.cli.tour import default_engine
from omakase.tour import chapters, drawing, story
from omakase.tour.chapters import CHAPTERS
from omakase.tour.ming import prepare
from tour_data import SMALL, assert_fits_80_columns, svg_text, terminal_lines


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
    assert len(list((out / "en").glob("*.png"))) == sum(len(c.FIGURES) for c in CHAPTERS)  # English, in its folder
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
    assert list((tmp_path / "figs").glob("*/ch6-*.png")) and not list((tmp_path / "figs").glob("*/ch1-*"))


def test_a_tour_in_another_language_never_overwrites_this_ones_figures(words, cache, tmp_path, capsys):
    out = tmp_path / "figs"
    assert main(["tour", "--data", str(words), "--chapter", "8", "--out", str(out)]) == 0
    english = (out / "en" / "ch8-scale.svg").read_bytes()
    assert main(["tour", "--data", str(words), "--chapter", "8", "--lang", "zh", "--out", str(out)]) == 0
    assert (out / "en" / "ch8-scale.svg").read_bytes() == english  # still the English figure
    assert (out / drawing.figure_language("zh") / "ch8-scale.svg").is_file()
    assert f"{out / drawing.figure_language('zh')}" in capsys.readouterr().out.replace("\n", "")


@pytest.mark.parametrize("args", [["--lang", "fr"], ["--chapter", str(len(CHAPTERS) + 1)], ["--engine", "abacus"]])
def test_bad_options_are_one_clear_line(args, capsys):
    assert main(["tour", *args]) == 2
    assert capsys.readouterr().err.startswith("omakase: error:")


def test_a_tour_without_a_terminal_prints_each_question_then_its_answer(words, cache, tmp_path, capsys):
    assert main(["tour", "--data", str(words), "--chapter", "4", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert text.index("Predict") < text.index("Answer:") and "e^−" in text[text.index("Answer:"):]


def test_the_master_and_the_sensei_have_distinct_names_in_chinese():
    """The master who wrote the records and the sensei who turns the dials are two people: whatever the
    catalogue calls them, the sensei's name never stands in the master's sentences, nor the reverse."""
    zh = story.Catalogue("zh").entries
    sensei = zh["map.adam.kitchen"]
    master = zh["map.dataset.kitchen"].removesuffix("留下的记录")
    assert master and sensei and master not in sensei and sensei not in master
    assert sensei not in zh["k.records"] and master not in zh["map.adam.kitchen"]


@pytest.mark.parametrize("lang", story.LANGUAGES)
def test_the_terminal_tour_fits_80_columns(measured, lang):
    """Prose wraps and tables fit at 80 columns; a Chinese character takes two of them (rich's cell_len)."""
    t = story.Catalogue(lang)
    lines = terminal_lines([chapters.tell(n, d, t) for n, d in measured.items()], t, story.metaphor_map(t))
    assert any("┃" in line for line in lines)  # tables were printed
    assert_fits_80_columns(lines)


def test_chinese_wraps_without_a_closing_mark_at_the_start_of_a_line():
    import io

    from rich.console import Console

    from omakase.tour import telling

    text = "阿明的第一道菜：他先看了一眼记录，然后说：我们开始吧。"
    assert telling.kinsoku_cuts(text, 20) == [10, 19]  # rich alone cuts at 10 and 20: before "："
    console = Console(file=io.StringIO(), width=20, color_system=None)
    telling.say(console, telling.Text(text))
    assert console.file.getvalue().splitlines() == ["阿明的第一道菜：他先", "看了一眼记录，然后", "说：我们开始吧。"]
    english = "A sentence that wraps at its spaces, as before."
    assert telling.kinsoku_cuts(english, 20) == __import__("rich._wrap")._wrap.divide_line(english, 20, fold=True)


def test_without_a_cjk_font_chinese_figures_fall_back_to_english_with_one_notice(words, cache, tmp_path, capsys,
                                                                                  monkeypatch):
    monkeypatch.setattr(drawing, "has_cjk_font", lambda: False)
    assert drawing.figure_language("zh") == "en" and drawing.figure_language("en") == "en"
    out = tmp_path / "figs"
    assert main(["tour", "--data", str(words), "--chapter", "8", "--lang", "zh", "--out", str(out)]) == 0
    text = capsys.readouterr().out.replace("\n", "")  # the notice wraps like any prose
    assert text.count("fonts-noto-cjk") == 1
    assert "areas to scale" in svg_text(out / "en" / "ch8-scale.svg")  # the English figures, in their own folder
    assert main(["tour", "--data", str(words), "--chapter", "8", "--out", str(out)]) == 0
    assert "fonts-noto-cjk" not in capsys.readouterr().out.replace("\n", "")  # English needs no notice


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
    for n, chapter in enumerate(chapters.FIRST_HALF, 1):  # measured on Ming; the second half: test_part2.py
        assert callable(chapter.measure) and callable(chapter.tell) and callable(chapter.question), n
        assert chapter.FIGURES and all(callable(make) for make in chapter.FIGURES), n
        told = chapters.tell(n, measured[n], story.Catalogue("en"))
        assert told.title.startswith(f"{n} ·")
        assert [b for b in told.blocks if isinstance(b, story.Question)] == [
            story.Question(*chapter.question(measured[n], story.Catalogue("en")))]
