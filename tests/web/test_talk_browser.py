"""Talking to the assistant on the page, in a real browser: Playwright driving Debian's Chromium against
`omakase web --assistant DIR` on a quick build made here (once for the module: about two minutes), and
against a page with no assistant, which says how to make one."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("torch")
pytest.importorskip("uvicorn")
pytest.importorskip("playwright.sync_api")

from page_server import CHROMIUM, browser, free_port, serving  # noqa: E402,F401  (browser: a fixture)

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

from omakase.web.app import create_app  # noqa: E402

pytestmark = pytest.mark.slow  # a quick assistant build (about two minutes on 2 cores), a server and a browser
BILL = "What do 3 eel bowls ($12 each) and 2 miso soups ($7 each) cost?"  # the section's own example
TEMPERATURE = 0.7  # the page's seed is 0: the reply below is the one `assistant chat --temperature 0.7` gives


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("talk") / "build"
    subprocess.run([sys.executable, "-m", "omakase", "assistant", "build", "--quick", "--out", str(out)], check=True,
                   capture_output=True, timeout=1800)
    return out


@pytest.fixture(scope="module")
def talking(build, tmp_path_factory):
    """`omakase web --assistant BUILD` itself, in its own process."""
    port, cwd = free_port(), tmp_path_factory.mktemp("cwd")
    server = subprocess.Popen([sys.executable, "-m", "omakase", "web", "--assistant", str(build), "--port", str(port)],
                              cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, "COLUMNS": "200"})
    opened = server.stdout.readline()  # the model is loaded before the server says it is open
    assert f"127.0.0.1:{port}" in opened, opened + server.stdout.read()
    yield f"http://127.0.0.1:{port}/"
    server.terminate()
    server.wait(20)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The page with no assistant."""
    with serving(create_app(tmp_path_factory.mktemp("runs"))) as url:
        yield url


def open_page(browser, url, width=1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.requests, page.errors = [], []
    page.on("request", lambda r: page.requests.append((r.method, r.url)))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.goto(url + "?chapter=talk")
    page.wait_for_load_state("networkidle")
    return context, page


@pytest.fixture(scope="module")
def model(build):
    """The model `omakase web --assistant BUILD` talks with."""
    from omakase.model import load

    return load(build / "sft-tools", kind="bpe")


def reference(model, build, conversation):
    """What the page must show: the events of the reply this model and the build's tools give to the same
    conversation at the same temperature (the page's seed is 0, as chat's is)."""
    from omakase.assistant.skills.stream import stream_reply
    from omakase.assistant.skills.tools import kitchen_tools

    events = []
    said = stream_reply(model, model.tokenizer, conversation, kitchen_tools(build), events.append,
                        temperature=TEMPERATURE)
    return said, events


def first_call(events):
    """The first call's expression as the page ends up showing it, and its result (None: never closed)."""
    start = [e["kind"] for e in events].index("call_start")
    written = ""
    for e in events[start + 1:]:
        if e["kind"] == "call":
            return e["query"], e["result"]
        if e["kind"] != "call_text":
            break
        written += e["text"]
    return written, None


def ask(page, text, refused: bool = False):
    """Send `text` and wait for the reply's end, or (refused) for the page's one-line error."""
    ends = page.locator("#talk-log .end").count()
    page.fill("#talk-input", text)
    page.press("#talk-input", "Enter")
    done = "!document.getElementById('error').hidden" if refused else \
        f"document.querySelectorAll('#talk-log .end').length > {ends}"
    page.wait_for_function(done, timeout=60_000)


def prompt_tokens(page) -> list[int]:
    """The size of each prompt shown on request, in order."""
    return [int(re.search(r"(\d+) tokens of the", p).group(1)) for p in page.locator("#talk-log > .tokens > p")
            .all_inner_texts()]


def test_a_bill_streams_a_reply_with_its_calculator_call(browser, talking, build, model):
    from omakase.assistant.skills.tools import render_with_tools

    said, events = reference(model, build, [{"role": "user", "content": BILL}])
    kinds = [e["kind"] for e in events]
    assert "call_start" in kinds, "the quick build wrote no calculator call for a bill"
    expression, result = first_call(events)
    context, page = open_page(browser, talking)
    assert page.locator("#talk-box").is_visible() and page.locator("#talk-none").is_hidden()
    assert "sft-tools" in page.inner_text("#talk-about")
    page.fill("#talk-temperature", str(TEMPERATURE))
    page.check("#talk-tokens")
    ask(page, BILL)
    call = page.locator("#talk-log .call").first
    assert call.locator(".tool").inner_text() == "calculator"
    assert call.locator(".expr").inner_text() == expression.strip()  # the expression the model wrote
    assert call.locator(".result").inner_text() == (result or "never closed: no result")  # the calculator's
    # result, right or wrong: a quick model often writes a wrong expression
    assert "".join(page.locator("#talk-log .said").all_inner_texts()).strip() == said.text.strip()
    assert page.locator("#talk-log .said .tok").count() == kinds.count("text")  # drawn token by token
    assert f"after {sum(said.written)} tokens" in page.inner_text("#talk-log .end")
    assert prompt_tokens(page) == [len(said.prompt_ids)]  # the prompt's tokens, on request
    assert page.locator("#talk-log > .tokens").first.locator(".chip").count() == len(said.prompt_ids)

    kept = events[-1]["written"]  # the conversation goes on: the page sends back what the first turn kept
    history = [{"role": "user", "content": BILL}, {"role": "assistant", "content": kept},
               {"role": "user", "content": "Thanks!"}]
    read = len(render_with_tools(history, model.tokenizer, True).ids)
    block = model.network.config.block_size
    ask(page, "Thanks!", refused=read > block)
    if read > block:  # the first reply filled the context: the server refuses in one line, naming the size
        assert f"the prompt is {read} tokens, but this model reads at most {block}" in page.inner_text("#error")
        assert "New conversation" in page.inner_text("#error") and page.input_value("#talk-input") == "Thanks!"
    else:
        assert prompt_tokens(page) == [len(said.prompt_ids), read]
    page.click("#talk-new")
    assert page.locator("#talk-log > *").count() == 0
    ask(page, BILL)
    assert prompt_tokens(page) == [len(said.prompt_ids)]  # a fresh conversation
    assert page.locator("#talk-log .call .expr").first.inner_text() == expression.strip()
    posts = [url for method, url in page.requests if method == "POST"]
    assert posts == [talking + "api/talk"] * 3
    refusal = "the server responded with a status of 422"  # the browser logs the refused follow-up, if any
    assert not [e for e in page.errors if not (read > block and refusal in e)], page.errors
    context.close()


def test_an_empty_message_is_a_notice_and_no_request(browser, talking):
    context, page = open_page(browser, talking)
    page.fill("#talk-input", "   ")
    page.press("#talk-input", "Enter")
    assert page.inner_text("#talk-log .notice") == "The message is empty: type a question first."
    assert not [u for m, u in page.requests if m == "POST"]
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_without_an_assistant_the_section_says_how_to_make_one(browser, plain, width):
    context, page = open_page(browser, plain, width)
    assert page.locator("#talk-box").is_hidden()
    shown = page.inner_text("#talk-none")
    assert "omakase assistant build --quick" in shown and "omakase web --assistant assistant-runs/build-001" in shown
    assert page.evaluate("document.documentElement.scrollWidth") == width  # nothing cut off on a phone
    assert not [u for m, u in page.requests if m == "POST"] and not page.errors, page.errors
    context.close()
