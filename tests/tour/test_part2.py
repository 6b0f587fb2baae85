"""The second half of the tour (chapters 9-15): told from the shipped assistant run, without PyTorch, in both
languages, every rate with its interval and its run; `--part`, `--assistant` and `--text` through the command."""

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from omakase import shipped
from omakase.cli import main
from omakase.config import GPTConfig, count_params
from omakase.errors import OmakaseError
from omakase.tour import chapters, story
from omakase.tour.chapters import PARTS, SECOND_HALF, ch9_word_pieces, ch13_thinking
from omakase.tour.second_half import build_run, rate, shipped_run, tag
from tour_data import PHONE, assert_fits_80_columns, needs_chromium, phone_page, terminal_lines

RATE = re.compile(r"\d+(\.\d)?% \[\d+(\.\d)?%, \d+(\.\d)?%\] \(n=[\d,]+\)")


@pytest.fixture(scope="module")
def run():
    return shipped_run("Who trained you, Ming?")


@pytest.fixture(scope="module")
def measured(run):
    return {n: chapters.measure_one(n, None, run) for n in PARTS[2]}


def told(measured, lang="en") -> list:
    t = story.Catalogue(lang)
    return [chapters.tell(n, d, t) for n, d in measured.items()]


def texts(chapter) -> list[str]:
    """Every sentence a chapter prints, paragraph by paragraph (a question's answer is one)."""
    out = []
    for b in chapter.blocks:
        if isinstance(b, (story.Para, story.Summary)):
            out.append(b.text)
        elif isinstance(b, story.Question):
            out += [b.text, b.answer]
    return out


def test_the_shipped_files_are_checked_against_their_digests(tmp_path, monkeypatch):
    for name in shipped.SHIPPED:
        assert shipped.path(name).is_file()
    # the shipped report is the one docs/assistant.md publishes, byte for byte
    assert shipped.load("assistant")["preset"] == "cpu"
    damaged = tmp_path / shipped.SHIPPED["service"].file
    damaged.write_text(shipped.path("service").read_text().replace("1.27", "4.00"))
    monkeypatch.setattr(shipped, "RECORDS", tmp_path)
    with pytest.raises(OmakaseError, match="reinstall omakase"):
        shipped.load("service")


def test_the_shipped_tokenizer_cuts_as_the_reports_run_did(run):
    """The tokenizer was rebuilt from the run's seed: it must give the report's own strawberry ids."""
    report = run.report["tokenizer"]
    ids = json.loads(re.search(r"the ids (\[[\d, ]+\])", report["strawberry"]).group(1))
    assert run.tokenizer.encode(" strawberry") == ids
    assert len(run.tokenizer.merges) == report["merges"] and run.tokenizer.vocab_size == report["vocab_size"]


def test_the_second_half_needs_no_pytorch():
    """On a machine without PyTorch: importing torch fails, and the whole second half is still told."""
    code = ("import sys; sys.modules['torch'] = None\n"
            "from omakase.tour import chapters, story\n"
            "from omakase.tour.second_half import shipped_run\n"
            "run = shipped_run()\n"
            "for n in chapters.PARTS[2]: chapters.tell(n, chapters.measure_one(n, None, run), story.Catalogue('zh'))\n"
            "print('told')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "told" in done.stdout, done.stderr


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_rate_carries_its_interval_and_its_run(measured, lang):
    t = story.Catalogue(lang)
    for chapter, d in zip(told(measured, lang), measured.values()):
        for text in texts(chapter):
            if "(n=" in text:
                assert RATE.search(text), text
                if "run" in d:
                    assert tag(d["run"], t) in text, text
        # every part-2 chapter has one question, a figure, and a table of kitchen words beside real terms
        assert sum(isinstance(b, story.Question) for b in chapter.blocks) == 1, chapter.number
        assert any(isinstance(b, story.Figure) for b in chapter.blocks), chapter.number
        assert any(isinstance(b, story.Table) for b in chapter.blocks), chapter.number


def test_each_chapter_says_which_run_it_tells(measured, run):
    first = told(measured)
    for chapter in first[:-1]:  # chapters 9-14 read the assistant build
        cpu = measured[chapter.number]["run"]["machine"]["cpu"]  # the shipped report's own machine
        assert any("seed 0" in p and shipped.SHIPPED["assistant"].date in p and cpu in p for p in texts(chapter)), \
            chapter.number
    service = " ".join(texts(first[-1]))  # chapter 15 reads the service report of the bigger Ming
    setup = run.hack("kv")["setup"]
    assert setup["cpu"] in service and shipped.SHIPPED["service"].date in service


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_second_half_fits_80_columns_in_the_terminal(measured, lang):
    assert_fits_80_columns(terminal_lines(told(measured, lang), story.Catalogue(lang)))


def test_the_readers_sentence_is_cut_live(measured, run):
    d = measured[9]
    assert d["text"] == "Who trained you, Ming?"
    assert [p["id"] for p in d["pieces"]] == run.tokenizer.encode(d["text"])
    assert "".join(p["text"] for p in d["pieces"]) == d["text"]
    # the question's answer is counted, not written: backwards, the same letters take more pieces
    assert len(d["backwards"]) == len(run.tokenizer.encode(" " + ch9_word_pieces.BACKWARDS)) > len(d["word"])
    answer = ch9_word_pieces.question(d, story.Catalogue("en"))[1]
    assert f"{len(d['backwards'])} pieces" in answer


def test_a_sentence_with_characters_the_internet_never_held_falls_back_to_bytes():
    d = ch9_word_pieces.measure(shipped_run("厨房"))
    assert len(d["pieces"]) == 6 > d["chars"]  # two characters, three UTF-8 bytes each, never merged
    assert "More pieces than characters" in " ".join(texts(chapters.tell(9, d, story.Catalogue("en"))))


def test_ratios_are_computed_from_the_reports(measured, run):
    d = measured[10]
    assert d["video"]["gpt2_params"] / d["params"] == pytest.approx(1.5e9 / run.report["base"]["parameters"])
    spec = run.hack("speculate")
    s = measured[15]["speculate"]
    assert s["call_ratio"] == spec["setup"]["draft call ms"] / spec["setup"]["target call ms"]
    assert s["weight_ratio"] == count_params(GPTConfig(**spec["setup"]["draft"])) / count_params(
        GPTConfig(**spec["setup"]["target"]))
    best_int8 = max(r[5] for r in run.hack("quantize")["rows"][1:])  # "forward x" of the int8 variants
    assert measured[15]["int8"]["forward"]["forward x"] == best_int8
    said = " ".join(texts(told(measured)[-1]))
    assert f"{best_int8:.2f}×" in said and "4×" in said and "2–3×" in said  # measured beside the claims


def test_what_did_not_appear_is_said_not_claimed(measured):
    from omakase.tour.second_half import overlap

    t = story.Catalogue("en")
    chapter12 = " ".join(texts(told(measured)[3]))
    apart = [p["what"] for p in measured[12]["pairs"] if not overlap(p["without"], p["with"])]
    if apart:  # exactly the pairs whose intervals are apart are named
        assert t("ch12.some_apart", which=t.join(t(f"ch12.pair.{w}") for w in apart)) in chapter12
    else:
        assert "none of the help makes answers right" in chapter12
    # the card sentence follows the paired test, whatever the intervals say, and says which way
    from omakase.tour.chapters import ch12_tools

    card = next(p for p in measured[12]["pairs"] if p["what"] == "card")
    differs = measured[12]["p_card"] < 0.05
    assert ("raises right answers" in chapter12) == (differs and card["with"]["share"] > card["without"]["share"])
    assert ("makes no difference this run can detect" in chapter12) == (not differs)
    lowered = dict(measured[12], pairs=[dict(card, **{"with": card["without"], "without": card["with"]})],
                   p_card=0.01)
    assert "lowers right answers" in ch12_tools.card_sentence(lowered, t)
    # the kitchen code's sentence says what the run's own intervals say, for k = 0 against the most examples
    none = {"share": 0.0, "low": 0.0, "high": 0.02, "n": 200}
    most = {"share": 0.85, "low": 0.8, "high": 0.9, "n": 200}
    assert "read the code off its context" in ch12_tools.in_context_verdict({"0": none, "4": most}, t)
    assert "no difference" in ch12_tools.in_context_verdict({"0": none, "4": none}, t)
    assert "worse" in ch12_tools.in_context_verdict({"0": most, "4": none}, t)
    code_said = "read the code off its context" in chapter12 or "no difference this run" in chapter12 or "worse" in chapter12
    assert code_said == bool(measured[12]["in_context"])
    chapter13 = " ".join(texts(told(measured)[4]))
    tasks = measured[13]["tasks"]
    changed = [task for task, r in tasks.items() if not overlap(*r.values())]
    assert ("working first did not help" in chapter13) == (not changed)
    # the 9.11 answer follows the pieces this tokenizer actually cuts
    numbers = measured[13]["numbers"]
    answer = ch13_thinking.question(measured[13], story.Catalogue("en"))[1]
    if len(numbers["9.11"]) > len(numbers["9.9"]):
        assert "learned no merge" in answer


def test_both_catalogues_of_the_second_half_match():
    en = json.loads((story.CATALOGUE / "en-part2.json").read_text(encoding="utf-8"))
    zh = json.loads((story.CATALOGUE / "zh-part2.json").read_text(encoding="utf-8"))
    assert set(en) == set(zh)
    for key in en:
        assert story.placeholders(en[key]) == story.placeholders(zh[key]), key
    first_half = json.loads((story.CATALOGUE / "en.json").read_text(encoding="utf-8"))
    assert not set(en) & set(first_half)  # the halves never overwrite each other's sentences


def test_a_readers_own_build_is_told_as_theirs(tmp_path, run):
    shutil.copy(shipped.path("assistant"), tmp_path / "report.json")
    shutil.copy(shipped.path("tokenizer"), tmp_path / "tokenizer.json")
    mine = build_run(tmp_path, "hello")
    assert mine.origin == "build" and mine.where == str(tmp_path)
    d = ch11 = chapters.measure_one(11, None, mine)
    said = " ".join(texts(chapters.tell(11, ch11, story.Catalogue("en"))))
    assert "your cpu build" in said and "shipped" not in said and str(tmp_path) not in said  # no path on a page
    hints = [b.text for b in chapters.tell(9, chapters.measure_one(9, None, mine), story.Catalogue("en")).blocks
             if isinstance(b, story.Hint)]
    assert hints == [f"Your build: {tmp_path}"]  # the terminal says where
    assert rate(d["format"]["sft"]) in said
    with pytest.raises(OmakaseError, match="omakase assistant build --preset quick"):
        build_run(tmp_path / "nothing-here")
    (tmp_path / "report.json").write_text('{"preset": "quick"}')
    with pytest.raises(OmakaseError, match="not a finished"):
        build_run(tmp_path)


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_the_second_half_through_the_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    page, out = tmp_path / "part2.html", tmp_path / "figs"
    assert main(["tour", "--part", "2", "--out", str(out), "--no-questions", "--text", "Is 9.11 bigger than 9.9?",
                 "--html", str(page)]) == 0
    printed = capsys.readouterr().out
    assert "9 · Word-pieces" in printed and "15 · Service" in printed and "1 · The records" not in printed
    assert not (tmp_path / "cache" / "omakase").exists()  # Ming was neither trained nor read
    names = sorted(p.name for p in out.rglob("*.png"))
    assert names == sorted(f"ch{n}-{make.__name__}.png" for n in PARTS[2] for make in SECOND_HALF[n - 9].FIGURES)
    assert all(p.with_suffix(".csv").read_text().count("\n") >= 2 for p in out.rglob("*.png"))
    html = page.read_text(encoding="utf-8")
    parser = Tags()
    parser.feed(html)
    assert parser.tags.count("section") == len(PARTS[2]) + 1 and parser.tags.count("svg") == len(names)
    assert len(html.encode()) < 1_500_000
    body = html[html.index("<body>"):]
    assert " --" not in body and str(tmp_path) not in body  # no flags, no local paths on a page
    assert main(["tour", "--chapter", "15", "--out", str(out), "--no-questions"]) == 0
    assert "15 · Service" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--part", "3"], "--part must be 1 or 2"),
    (["--part", "2", "--chapter", "3"], "--chapter 3 is not in part 2"),
    (["--chapter", "16"], "--chapter must be a number from 1 to 15"),
    (["--part", "2", "--assistant", "/nonexistent/build"], "holds no report.json"),
    (["--part", "1", "--assistant", "/nonexistent/build"], "--assistant tells the second half"),
    (["--part", "2", "--text", "  "], "--text is empty"),
    (["--chapter", "12", "--text", "hello"], "--text is cut into word-pieces in chapter 9"),
])
def test_bad_second_half_options_are_one_clear_line(args, message, capsys):
    assert main(["tour", "--no-questions", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err




@needs_chromium
def test_the_second_half_is_not_cut_off_at_a_phones_width(tmp_path, capsys):
    pages = {lang: tmp_path / f"part2-{lang}.html" for lang in story.LANGUAGES}
    for lang, page in pages.items():
        assert main(["tour", "--part", "2", "--lang", lang, "--out", str(tmp_path / "figs"), "--no-questions",
                     "--html", str(page)]) == 0
    capsys.readouterr()
    with phone_page() as page:
        for lang, path in pages.items():
            page.goto(path.as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") == PHONE, lang
            boxes = page.evaluate("[...document.querySelectorAll('.scroll')].map(b => "
                                  "b.getBoundingClientRect().right)")
            assert len(boxes) > len(PARTS[2]) and max(boxes) <= PHONE, lang


def test_sentences_follow_what_a_build_measured(tmp_path):
    """A build where the effects are missing (no call made, no real text mixed in, no practice group that
    teaches, the format not learned) is told as it is: no sentence claims what it did not measure."""
    report = shipped.load("assistant")
    report["tools"]["bills"]["example"]["sft-tools"] = "That is $5."
    report["corpus"]["mixed"] = {"restaurant": report["corpus"]["mixed"]["restaurant"]}
    report["practice"]["history"]["teaching"] = [0.0] * len(report["practice"]["history"]["teaching"])
    report["format"]["sft"] = dict(report["format"]["base"])
    report["tools"]["bills"]["called"] = {"share": 0.1, "low": 0.05, "high": 0.15, "n": 200}
    report["practice"]["spelled"]["after"] = dict(report["practice"]["spelled"]["before"])  # no way chosen
    (tmp_path / "report.json").write_text(json.dumps(report))
    shutil.copy(shipped.path("tokenizer"), tmp_path / "tokenizer.json")
    mine = build_run(tmp_path)
    said = {n: " ".join(texts(chapters.tell(n, chapters.measure_one(n, None, mine), story.Catalogue("en"))))
            for n in PARTS[2]}
    assert "Shakespeare" not in said[10] and "mixed in no other text" in said[10]
    assert "did not show it learned" in said[11] and "manners are learned:" not in said[11]
    assert "Will it call the calculator?" in said[12] and "Not this time" in said[12]
    assert "learned to call" not in said[12]  # the calls were not made
    assert "that never happened" in said[14]
    assert "did not change which way it works" in said[14] and "on its own" not in said[14]


def test_the_knowledge_line_is_said_only_when_the_run_shows_it(measured):
    """Chapter 11's one line says knowledge comes from reading only when the facts read most and least often
    are answered right at rates whose intervals are apart."""
    t = story.Catalogue("en")
    k = measured[11]["knowledge"]["sft"]
    once = {"share": 0.04, "low": 0.0, "high": 0.09, "n": 80}
    for thirty, shown in (({"share": 0.40, "low": 0.30, "high": 0.50, "n": 84}, True),
                          ({"share": 0.08, "low": 0.03, "high": 0.14, "n": 84}, False)):
        d = dict(measured[11], knowledge=dict(measured[11]["knowledge"], sft=dict(k, **{"1": once, "30": thirty})))
        line = chapters.tell(11, d, t).blocks[-1].text
        assert (line == t("ch11.summary")) == shown and (line == t("ch11.summary_unshown")) == (not shown)
    wrong_way = dict(k, **{"1": {"share": 0.40, "low": 0.30, "high": 0.50, "n": 80}, "30": once})  # apart, reversed
    d = dict(measured[11], knowledge=dict(measured[11]["knowledge"], sft=wrong_way))
    assert chapters.tell(11, d, t).blocks[-1].text == t("ch11.summary_unshown")


def test_the_critics_line_follows_what_best_of_n_did(measured):
    """Chapter 14's one line says a critic's score can rise while quality does not, unless this run's best-of-n
    raised the rubric beyond its interval with the score; then it also says when practice against the critic
    made the rubric fall beyond its interval."""
    t = story.Catalogue("en")
    d = measured[14]
    low, high = {"share": 0.62, "low": 0.60, "high": 0.64, "n": 800}, {"share": 0.70, "low": 0.68, "high": 0.72, "n": 800}
    held = dict(d["chase"], rubric_before=low, rubric_after=low)  # practice against the critic left the rubric as it was
    fell = dict(d["chase"], rubric_before=high, rubric_after=low)
    for rubrics, chase, key in (((low, high), held, "ch14.summary_critic_right"), ((low, low), held, "ch14.summary"),
                                ((high, low), held, "ch14.summary"), ((low, high), fell, "ch14.summary_critic_chased"),
                                ((low, low), fell, "ch14.summary")):
        best = [dict(b, rubric=r) for b, r in zip((d["best_of_n"][0], d["best_of_n"][-1]), rubrics)]
        assert chapters.tell(14, dict(d, best_of_n=best, chase=chase), t).blocks[-1].text == t(key)


def test_the_lesson_on_flattering_a_critic_says_what_this_runs_practice_against_it_did(measured):
    """The general lesson (practice against a reward model, run long enough, flatters it) is followed by what this
    run's practice against its reward model did to the rubric, which need not agree with the lesson."""
    t = story.Catalogue("en")
    d = measured[14]
    low, high = {"share": 0.62, "low": 0.60, "high": 0.64, "n": 800}, {"share": 0.70, "low": 0.68, "high": 0.72, "n": 800}
    for before, after, verdict in ((low, high, "up"), (high, low, "down"), (low, low, "same")):
        blocks = chapters.tell(14, dict(d, chase=dict(d["chase"], rubric_before=before, rubric_after=after)), t).blocks
        lesson = next(b.text for b in blocks if getattr(b, "text", "").startswith(t("ch14.why")))
        assert t(f"ch14.why.{verdict}") in lesson
        assert all(t(f"ch14.why.{other}") not in lesson for other in {"up", "down", "same"} - {verdict})


def test_the_service_chapter_tells_the_size_sweep_as_it_came_out(run):
    """INT8 is said to pay at the large end only when its speed-up there is above 1 by more than its spread."""
    from dataclasses import replace

    from omakase.tour.chapters import ch15_service

    t = story.Catalogue("en")
    sweep = run.sweep
    columns = sweep["columns"]

    def told_with(int8_big: float) -> str:
        rows = [list(r) for r in sweep["rows"]]
        biggest = max(r[columns.index("parameters")] for r in rows)
        shortest = min(r[columns.index("context")] for r in rows)
        for r in rows:
            if r[columns.index("parameters")] == biggest and r[columns.index("context")] == shortest:
                r[columns.index("INT8 x")], r[columns.index("spread")] = int8_big, 0.2
        d = ch15_service.measure(replace(run, sweep=sweep | {"rows": rows}))
        return " ".join(texts(chapters.tell(15, d, t)))

    assert t("ch15.sweep.pays") in told_with(3.0) and t("ch15.sweep.never") not in told_with(3.0)
    assert t("ch15.sweep.never") in told_with(1.1)  # within its spread of 1: no pay
    assert t("ch15.not_measured") in " ".join(texts(chapters.tell(15, ch15_service.measure(replace(run, sweep=None)), t)))


def test_practice_says_which_way_of_working_the_model_moved_to(measured):
    """The shipped run's practice started from a model taught two ways to count letters; the chapter says
    which way its greedy replies moved, and only that (the intervals decide)."""
    said = " ".join(texts(chapters.tell(14, measured[14], story.Catalogue("en"))))
    spelled = measured[14]["spelled"]
    moved = spelled["after"]["low"] > spelled["before"]["high"]
    assert ("moved to spelling on its own" in said) == moved
    share = spelled.get("taught_direct", 0.5)  # reports from before the share was recorded used half
    assert f"{share:.0%} of its training words counted at once, the rest spelled out" in said
    quarter = measured[14] | {"spelled": spelled | {"taught_direct": 0.25}}
    assert "25% of its training words" in " ".join(texts(chapters.tell(14, quarter, story.Catalogue("en"))))


def test_the_best_of_n_answer_teaches_what_the_rubric_did():
    """The predict-then-see answer follows the rubric's intervals: flat (the critic is only partly right), up
    (a critic good enough that its favourite is better: no over-optimization yet) or down (over-optimization)."""
    from omakase.tour.chapters import ch14_practice

    t = story.Catalogue("en")

    def answer(low: float, high: float) -> str:
        def picked(n, reward, share, lo, hi):
            return {"n": n, "reward": reward, "rubric": {"share": share, "low": lo, "high": hi, "n": 800},
                    "answers": {"share": 0.4, "low": 0.37, "high": 0.43, "n": 800}}
        d = {"run": {"origin": "shipped", "preset": "cpu", "date": "2026-12-07"},
             "reward_model": {"share": 0.73, "low": 0.68, "high": 0.78, "n": 349},
             "best_of_n": [picked(1, 0.2, 0.63, 0.61, 0.65), picked(8, 3.3, (low + high) / 2, low, high)]}
        return ch14_practice.question(d, t)[1]

    assert t("q14.lesson.same") in answer(0.62, 0.66)
    assert t("q14.lesson.up") in answer(0.66, 0.70) and t("q14.lesson.same") not in answer(0.66, 0.70)
    assert t("q14.lesson.down") in answer(0.50, 0.55)


def test_the_digits_line_says_whether_the_tokenizer_moved_the_trap(measured):
    """Chapter 13 sets sft-short beside the same model made with every digit a token of its own (a build's
    `digits`), and says the tokenizer changed the trap's rate only when the two intervals are apart."""
    t = story.Catalogue("en")
    plain = {"share": 0.75, "low": 0.64, "high": 0.85, "n": 67}
    caught, missed = {"share": 0.93, "low": 0.85, "high": 0.99, "n": 67}, {"share": 0.50, "low": 0.38, "high": 0.62, "n": 67}
    for split_trap, apart in ((missed, True), (dict(caught, share=0.9), False)):
        digits = {"bpe": {"same whole, trap": caught, "same whole, no trap": plain},
                  "split": {"same whole, trap": split_trap, "same whole, no trap": plain}}
        said = " ".join(texts(chapters.tell(13, dict(measured[13], digits=digits), t)))
        assert "only the tokenizer changed" in said and "93% [85%, 99%] (n=67)" in said
        assert ("the tokenizer changed how often the trap caught" in said) == apart
        assert ("did not measurably change" in said) == (not apart)
    assert "only the tokenizer changed" not in " ".join(texts(chapters.tell(13, dict(measured[13], digits=None), t)))
