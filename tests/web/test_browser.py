"""The page in a real browser: Playwright driving Debian's Chromium (`apt-get install chromium`),
against a live server on this machine, at a desktop (1280 px) and a phone (390 px) width."""

import shutil
from urllib.parse import parse_qs, urlparse

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("playwright.sync_api")

from page_server import CHROMIUM, browser, serving  # noqa: E402,F401  (browser: a fixture)

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

from omakase import anatomy, inference  # noqa: E402
from omakase.tour.story import Catalogue  # noqa: E402  (a test may read the tour: the page must match it)
from omakase.web.app import create_app  # noqa: E402

pytestmark = pytest.mark.slow  # about a minute: a browser, a server and a training run
WIDTHS = [1280, 390]
SECTIONS = ["records", "courses", "line", "scorecard", "trace", "train", "graduate", "compare"]  # chapters 1 to 8


@pytest.fixture(scope="module")
def runs(runs_dir, tmp_path_factory):
    runs = tmp_path_factory.mktemp("browser") / "runs"
    shutil.copytree(runs_dir, runs)
    return runs


@pytest.fixture(scope="module")
def server(runs):
    with serving(create_app(runs)) as url:
        yield url


def _page(browser, server, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.requests, page.errors = [], []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.base = server
    return context, page


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def page(request, browser, server):
    context, page = _page(browser, server, request.param)
    yield page
    assert not page.errors, page.errors  # no script error, no failed request (a 422 is logged as one)
    assert all(url.startswith(server) or url.startswith("data:") for url in page.requests), page.requests
    context.close()


@pytest.fixture
def desk(browser, server):
    """The desktop width only: for behaviour that does not depend on the width."""
    context, page = _page(browser, server, 1280)
    yield page
    assert not page.errors, page.errors
    context.close()


def open_at(page, **query):
    page.goto(page.base + "?" + "&".join(f"{k}={v}" for k, v in query.items()))
    page.wait_for_load_state("networkidle")


def text(page, selector):
    return page.locator(selector).inner_text()


# --- every section, at both widths ---------------------------------------------------------------------

def test_every_section_fits_the_width_and_follows_the_tours_chapter(page):
    """At 390 px nothing is cut off: the page never scrolls sideways (wide tables scroll inside their box)."""
    titles = Catalogue("en")
    for n, section in enumerate(SECTIONS, 1):
        open_at(page, chapter=section, checkpoint="ming-001", name="emma")
        assert text(page, f"#{section} h2") == titles(f"ch{n}.title")
        assert page.locator(f"#{section} .callout p").count() == 2  # what to try, what to notice
        assert page.evaluate("document.documentElement.scrollWidth") == page.viewport_size["width"], section
    page.click("#chapters button[data-ch=trace]")
    page.locator("#path-all").click()  # the longest tables: the whole path and the dials found
    page.locator("#found-table").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") == page.viewport_size["width"]


def test_training_draws_its_curve_as_it_goes(page):
    open_at(page, chapter="train")
    page.fill("input[name=steps]", "2000")
    page.fill("input[name=n_embd]", "32")
    page.fill("input[name=batch_size]", "8")
    page.click("#train-start")
    running = "(document.querySelectorAll('#train-chart path')[1]?.getAttribute('d') || '').length"  # running mean
    page.wait_for_function(f"{running} > 0 && document.getElementById('train-status').textContent.includes('running')")
    first = page.evaluate(running)
    page.wait_for_function(f"{running} > {first}")
    page.click("#train-stop")
    page.wait_for_function("document.getElementById('train-status').textContent.includes('web-')", timeout=60_000)
    assert page.locator("#train-snapshots li").count() >= 1
    assert page.locator("#train-start").is_enabled()


# --- the header -----------------------------------------------------------------------------------------

def test_the_header_states_the_held_out_set_and_its_loss(desk, runs):
    open_at(desk, chapter="records", checkpoint="ming-001")
    evaluated = inference.evaluate(inference.load_with_data(runs / "ming-001.json"), "val")
    held = text(desk, "#held-out")
    assert f"{evaluated.documents:,}" in held and f"{evaluated.loss:.4f}" in held and "32,033" in held


def test_chinese_calls_ming_as_the_tour_does(desk):
    open_at(desk, chapter="records", checkpoint="ming-001", lang="zh")
    assert text(desk, "h1") == Catalogue("zh")("ming") + "的厨房"
    assert text(desk, "#records h2") == Catalogue("zh")("ch1.title")


# --- names as typed -------------------------------------------------------------------------------------

def test_a_name_is_lowercased_as_it_is_typed(desk):
    open_at(desk, chapter="records", checkpoint="ming-001", name="anna")
    field = desk.locator("#records .name-input")
    field.fill("")
    field.type("Emma")
    assert field.input_value() == "emma"
    field.press("Enter")
    desk.wait_for_function("document.getElementById('records-out').textContent.includes('emma')")
    assert parse_qs(urlparse(desk.url).query)["name"] == ["emma"]


def test_an_empty_name_gets_its_own_message_and_no_request(desk):
    open_at(desk, chapter="scorecard", checkpoint="ming-001", name="emma")
    desk.locator("#score-table").wait_for()
    asked = len(desk.requests)
    desk.fill("#scorecard .name-input", "")
    desk.press("#scorecard .name-input", "Enter")
    assert text(desk, "#score-out .notice") == "The name is empty: type at least one letter, then press the button."
    assert not [u for u in desk.requests[asked:] if "/api/" in u]
    assert desk.locator("#error").is_hidden()


# --- 5: tracing and turning a dial ------------------------------------------------------------------------

def test_the_worked_example_narrates_every_step_sugars_too(desk):
    open_at(desk, chapter="trace", checkpoint="ming-001", name="emma")
    desk.locator("#path-step").wait_for()
    for _ in range(8):  # four nodes forward, four edges back (taste: blend and salt; blend: salt and sugar)
        desk.click("#worked-step")
    assert desk.locator("#worked-step").is_disabled()
    influences = desk.locator("#worked-table tbody tr td:nth-child(4)").all_inner_texts()
    assert influences == ["4.00", "2.00", "1.00", "1.00"]  # salt, sugar, blend, taste
    assert text(desk, "#worked-say").startswith("Back: sugar gets")  # the last step's words stay on screen
    assert text(desk, "#worked-done").startswith("Done:")


def test_the_traced_path_names_its_stations_in_kitchen_words(desk):
    open_at(desk, chapter="trace", checkpoint="ming-002", name="emma")
    desk.locator("#path-step").wait_for()
    desk.click("#path-step")
    desk.click("#path-step")
    assert desk.locator("#path-table tbody tr").count() == 2
    desk.click("#path-all")
    where = desk.locator("#path-table td.where").all_inner_texts()
    techniques = desk.locator("#path-table tbody td:nth-child(3)").all_inner_texts()
    assert where[0] == "the diner's penalty" and techniques[0] == "blend (mul)"
    top = desk.locator("#found-table tbody tr").first.locator("td").first.inner_text()
    assert where[-1] == top and "[" not in top  # the dial in kitchen words, never matrix[row][col]
    assert any(w.startswith(("the vote's score", "the stock", "back-kitchen unit", "sous chef", "card +"))
               for w in where)
    desk.locator("#found-table button.nudge").first.click()  # the measured change appears
    assert desk.locator("#found-table td").nth(3).inner_text() != "?"
    # the path to each of the other dials: the penalty first, that dial last, the stations between
    stations = set()
    for k in range(1, desk.locator("#found-table tbody tr").count()):
        dial = desk.locator("#found-table tbody tr").nth(k).locator("td").first.inner_text()
        desk.locator("#found-table button.path-to").nth(k).click()
        desk.wait_for_function(f"[...document.querySelectorAll('#path-table td.where')].pop()?.textContent == {dial!r}")
        where = desk.locator("#path-table td.where").all_inner_texts()
        assert where[0] == "the diner's penalty" and parse_qs(urlparse(desk.url).query)["path"] == [str(k)]
        stations |= {w.split(",")[0] for w in where[1:-1] if not w.startswith("inside")}
    found = desk.locator("#found-table tbody td:first-child").all_inner_texts()
    if any(not d.startswith("the final vote") for d in found):  # a dial before the vote: the path crosses the line
        assert {"the stock after the back kitchen", "the stock after the roundtable's spoonful"} <= stations, stations


def test_the_first_turn_it_click_opens_the_dial_it_names(desk):
    open_at(desk, chapter="trace", checkpoint="ming-002", name="emma")
    desk.locator("#path-all").click()
    top = desk.locator("#found-table tbody tr").first.locator("td").first.inner_text()
    desk.locator("#found-table button.turn-it").first.click()
    desk.wait_for_function(f"document.getElementById('dial-name').textContent == {top!r}")
    assert "dial=" in desk.url


def test_picking_a_dial_starts_from_the_station_with_rows_by_letter(desk):
    open_at(desk, chapter="trace", checkpoint="ming-001", name="emma")
    desk.locator("#dial-score").wait_for()
    before = text(desk, "#dial-score")
    desk.select_option("#dial-station", label="the flavor cards")
    rows = desk.locator("#dial-row option").all_inner_texts()
    assert rows[:3] == ["a's card", "b's card", "c's card"] and rows[-1] == "bell's card"
    desk.select_option("#dial-row", label="m's card")
    desk.select_option("#dial-col", label="number 7")
    desk.fill("#dial-delta", "1.5")
    desk.wait_for_function(f"document.getElementById('dial-score').textContent != {before!r}")
    assert text(desk, "#dial-name") == "m's flavor card, number 7"
    query = parse_qs(urlparse(desk.url).query)
    assert query["dial"] == ["wte.12.6"] and query["turn"] == ["1.5"]
    desk.select_option("#dial-station", label="the back kitchen")
    assert desk.locator("#dial-part option").all_inner_texts() == [
        anatomy.Words("en")("part.mlp_fc1"), anatomy.Words("en")("part.mlp_fc2")]
    desk.click("#dial-reset")
    desk.wait_for_function("document.getElementById('dial-score').textContent.includes('(+0.0000)')")


def test_a_card_number_in_section_2_opens_that_dial(desk):
    open_at(desk, chapter="courses", checkpoint="ming-001", name="emma")
    desk.locator("#courses-out .cell").first.wait_for()
    desk.locator("#courses-out tbody tr").nth(2).locator("td").nth(3).locator(".cell").nth(6).click()  # m, number 7
    desk.wait_for_function("document.getElementById('dial-name').textContent == \"m's flavor card, number 7\"")
    assert not desk.locator("#trace").is_hidden()


def test_a_link_reopens_the_dial_turned(desk, browser):
    open_at(desk, chapter="trace", checkpoint="ming-001", name="emma", dial="layer0.mlp_fc1.11.4", turn="1.5")
    desk.locator("#dial-score").wait_for()
    assert text(desk, "#dial-name") == "the back kitchen, unit 12 of 64, tasting stock number 5"
    assert desk.locator("#dial-delta").input_value() == "1.5"
    assert "(+0.0000)" not in text(desk, "#dial-score")


# --- 7: graduation ------------------------------------------------------------------------------------------

def test_the_risk_dial_reshapes_one_courses_vote_in_place(desk):
    open_at(desk, chapter="graduate", checkpoint="ming-002", name="emma", course="3")
    desk.locator("#vote-truth").wait_for()
    title = text(desk, "#vote-title")
    assert "course 3 of \"emma\"" in title and "temperature 0.50" in title
    widths = "[...document.querySelectorAll('#votes .bar')].map(b => b.style.width).join()"
    warm = desk.evaluate(widths)
    desk.fill("#temperature", "0.1")
    desk.wait_for_function("document.getElementById('vote-truth').textContent.includes('temperature 0.10')")
    assert desk.evaluate(widths) != warm and "course 3 of \"emma\"" in text(desk, "#vote-title")
    assert "temperature 1)" not in text(desk, "#graduate") and "at temperature 1 " not in text(desk, "#graduate")
    assert parse_qs(urlparse(desk.url).query)["course"] == ["3"]


def test_the_page_cooks_the_names_omakase_cook_cooks(desk, runs):
    open_at(desk, chapter="graduate", checkpoint="ming-002")
    desk.locator("#dishes button").first.wait_for()
    model = inference.load_with_data(runs / "ming-002.json")
    assert desk.locator("#dishes button span").all_inner_texts() == [d.name or "∅" for d in inference.cook(model)]
    dish = next(d.name for d in inference.cook(model) if d.name and d.name != "emma")
    desk.locator(f"#dishes button[data-name={dish}]").first.click()
    desk.wait_for_function(f"document.getElementById('vote-title').textContent.includes('course 1 of \"{dish}\"')")
    assert parse_qs(urlparse(desk.url).query)["name"] == [dish]


def test_a_shared_link_opens_the_same_view(desk, browser):
    open_at(desk, chapter="graduate", checkpoint="ming-002", temperature="1.2", seed="5", name="anna", course="2")
    desk.locator("#dishes button").first.wait_for()
    names = desk.locator("#dishes button span").all_inner_texts()
    desk.click("#lang")
    desk.wait_for_function("document.querySelector('h1').textContent == '阿明的厨房'")
    shared = desk.url
    assert parse_qs(urlparse(shared).query)["lang"] == ["zh"]
    other = browser.new_page(viewport=desk.viewport_size)
    other.goto(shared)
    other.locator("#dishes button").first.wait_for()
    other.locator("#vote-truth").wait_for()
    assert other.locator("#dishes button span").all_inner_texts() == names
    assert other.locator("h1").inner_text() == "阿明的厨房"
    assert other.locator("#checkpoint").input_value() == "ming-002"
    assert other.locator("#temperature").input_value() == "1.2"
    assert other.locator("#vote-courses button[aria-pressed=true]").inner_text().startswith("2:")
    other.close()


# --- 3 and the tabs -----------------------------------------------------------------------------------------

def test_a_typed_name_shows_each_chefs_attention(desk):
    open_at(desk, chapter="line", checkpoint="ming-001")
    desk.fill("#line-name", "anna")
    desk.press("#line-name", "Enter")
    desk.wait_for_function("document.querySelectorAll('#line-out table.heat').length == 4")  # four sous chefs
    rows = desk.locator("#line-out table.heat").first.locator("tbody tr")
    assert rows.count() == 5  # the bell and a, n, n, a
    desk.click("#line-steps button[data-pos='2']")
    assert text(desk, "#line-course h3") == "Course 3: n" and "course=3" in desk.url
    assert desk.locator("#line-course .units span.pass").count() > 0


def test_the_chapters_are_tabs_the_keyboard_can_walk(desk):
    open_at(desk, chapter="records")
    desk.focus("#chapters button[data-ch=records]")
    desk.keyboard.press("ArrowRight")
    desk.wait_for_function("!document.getElementById('courses').hidden")
    assert "chapter=courses" in desk.url


def test_a_link_reopens_the_two_runs_compared(desk):
    open_at(desk, chapter="compare", a="ming-002", b="ming-001")
    desk.locator("#cmp-out .card h4").first.wait_for()
    assert desk.locator("#cmp-out .card h4").all_inner_texts() == ["ming-002", "ming-001"]
    desk.select_option("#cmp-a", "ming-001")
    assert parse_qs(urlparse(desk.url).query)["a"] == ["ming-001"]
