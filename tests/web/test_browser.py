"""The page in a real browser: Playwright driving Debian's Chromium (`apt-get install chromium`),
against a live server on this machine, at a desktop (1280 px) and a phone (390 px) width."""

import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

from omakase.web.app import create_app  # noqa: E402

pytestmark = pytest.mark.slow  # about a minute: a browser, a server and a training run
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-sync",
        "--disable-quic", "--disable-background-networking", "--disable-component-update",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost, EXCLUDE 127.0.0.1"]
WIDTHS = [1280, 390]


@pytest.fixture(scope="module")
def server(runs_dir, tmp_path_factory):
    runs = tmp_path_factory.mktemp("browser") / "runs"
    shutil.copytree(runs_dir, runs)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(runs), host="127.0.0.1", port=port, log_level="warning",
                                        timeout_graceful_shutdown=1))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    end = time.monotonic() + 20
    while not srv.started and time.monotonic() < end:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def page(request, browser, server):
    context = browser.new_context(viewport={"width": request.param, "height": 900})
    page = context.new_page()
    page.requests, page.errors = [], []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.base = server
    yield page
    assert not page.errors, page.errors
    assert all(url.startswith(server) or url.startswith("data:") for url in page.requests), page.requests
    context.close()


def open_at(page, **query):
    page.goto(page.base + "?" + "&".join(f"{k}={v}" for k, v in query.items()))
    page.wait_for_load_state("networkidle")


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
    page.wait_for_function("document.getElementById('train-status').textContent.includes('web-')")
    assert page.locator("#train-snapshots li").count() >= 1
    assert page.locator("#train-start").is_enabled()


def test_the_slider_cooks_different_names(page):
    open_at(page, chapter="graduate", checkpoint="ming-002")
    page.locator("#dishes button").first.wait_for()
    cold = page.locator("#dishes button span").all_inner_texts()
    page.fill("#temperature", "1.8")
    page.wait_for_function(f"[...document.querySelectorAll('#dishes button span')].map(x => x.textContent).join() "
                           f"!= {','.join(cold)!r}")
    assert "temperature=1.8" in page.url
    page.locator("#dishes button").first.click()
    page.locator("#votes .bars").first.wait_for()


def test_a_typed_name_shows_each_chefs_attention(page):
    open_at(page, chapter="line", checkpoint="ming-001")
    page.fill("#line-name", "anna")
    page.press("#line-name", "Enter")
    page.wait_for_function("document.querySelectorAll('#line-out table.heat').length == 4")  # four sous chefs
    rows = page.locator("#line-out table.heat").first.locator("tbody tr")
    assert rows.count() == 5  # the bell and a, n, n, a
    assert page.locator("#line-course .units span.pass").count() > 0
    assert "name=anna" in page.url


def test_stepping_through_tracing(page):
    open_at(page, chapter="trace", checkpoint="ming-001", name="emma")
    page.locator("#path-step").wait_for()
    for _ in range(8):  # four nodes forward, four edges back (taste: blend and salt; blend: salt and sugar)
        page.click("#worked-step")
    assert page.locator("#worked-step").is_disabled()
    influences = page.locator("#worked-table tbody tr td:nth-child(4)").all_inner_texts()
    assert influences == ["4.00", "2.00", "1.00", "1.00"]  # salt, sugar, blend, taste
    page.click("#path-step")
    page.click("#path-step")
    assert page.locator("#path-table tbody tr").count() == 2
    page.get_by_text("All steps").or_(page.get_by_text("全部步骤")).click()
    page.locator("#course-out button.small").first.click()  # nudge the top dial: the measured change appears
    assert page.locator("#course-out table.data").last.locator("td").nth(4).inner_text() != "?"


def test_turning_a_dial_changes_the_score(page):
    open_at(page, chapter="dial", checkpoint="ming-001", name="emma")
    score = page.locator("#dial-score")
    score.wait_for()
    before = score.inner_text()
    page.select_option("#dial-station", "wte")
    page.fill("#dial-row", "4")  # the card of "e"
    page.press("#dial-row", "Tab")
    page.fill("#dial-delta", "1.5")
    page.wait_for_function(f"document.getElementById('dial-score').textContent != {before!r}")
    assert "wte[4][0]" in page.locator("#dial-out").inner_text()
    page.click("#dial-reset")
    page.wait_for_function("document.getElementById('dial-score').textContent.includes('(+0.0000)')")


def test_a_shared_link_opens_the_same_view(page, browser):
    open_at(page, chapter="graduate", checkpoint="ming-002", temperature="1.2", seed="5")
    page.locator("#dishes button").first.wait_for()
    names = page.locator("#dishes button span").all_inner_texts()
    page.click("#lang")
    page.wait_for_function("document.querySelector('h1').textContent == '明的厨房'")
    shared = page.url
    assert parse_qs(urlparse(shared).query)["lang"] == ["zh"]
    other = browser.new_page(viewport=page.viewport_size)
    other.goto(shared)
    other.locator("#dishes button").first.wait_for()
    assert other.locator("#dishes button span").all_inner_texts() == names
    assert other.locator("h1").inner_text() == "明的厨房"
    assert other.locator("#checkpoint").input_value() == "ming-002"
    assert other.locator("#temperature").input_value() == "1.2"
    other.close()


def test_the_chapters_are_tabs_the_keyboard_can_walk(page):
    open_at(page, chapter="train")
    page.focus("#chapters button[data-ch=train]")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("!document.getElementById('graduate').hidden")
    assert "chapter=graduate" in page.url


def test_a_question_is_answered_only_after_a_guess(page):
    open_at(page, chapter="questions", checkpoint="ming-001")
    page.wait_for_function("document.querySelectorAll('#q-list .question input').length == 8", timeout=60_000)
    reveal = page.locator("#q-list .question").nth(3).locator("button")
    assert reveal.is_disabled()  # no guess, no answer
    page.fill("#q4-guess", "1")
    reveal.click()
    page.wait_for_function("document.querySelectorAll('#q-list .question')[3].textContent.includes('0.69')")
