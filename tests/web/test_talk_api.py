"""The web kitchen's talk route with FastAPI's test client: a stand-in `talk` (a plain callable, as
`omakase web --assistant` composes one), and the real stream_reply on a scripted model."""

import json
import threading

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from omakase.errors import OmakaseError  # noqa: E402
from omakase.web.app import NO_ASSISTANT, create_app  # noqa: E402
from scripted_engine import Scripted  # noqa: E402

ASK = [{"role": "user", "content": "What do 3 eel bowls ($12 each) and 2 miso soups ($7 each) cost?"}]
SCRIPT = [{"kind": "prompt", "tokens": 30, "block": 96}, {"kind": "call_start", "tool": "calc"},
          {"kind": "call_text", "text": "3*12+"}, {"kind": "call_text", "text": "2*7"},
          {"kind": "call", "tool": "calc", "query": "3*12+2*7", "result": "50"},
          {"kind": "text", "text": "That is", "id": 7}, {"kind": "text", "text": " $50.", "id": 8},
          {"kind": "end", "reason": "end", "text": "That is $50.", "tokens": 12,
           "written": "<|calc|>3*12+2*7<|/calc|><|result|>50<|/result|>That is $50."}]


class Talk:
    """A stand-in assistant: tells SCRIPT's events and records how it was asked."""

    def __init__(self, script=SCRIPT, fail=None, fail_after=0):
        self.script, self.fail, self.fail_after, self.asked = script, fail, fail_after, []

    def __call__(self, messages, on_event, *, temperature, seed, show_tokens):
        self.asked.append(dict(messages=messages, temperature=temperature, seed=seed, show_tokens=show_tokens))
        for i, event in enumerate(self.script):
            if self.fail is not None and i == self.fail_after:
                raise self.fail
            on_event(event)


def events(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


def refused(response, status=422):
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert message and "\n" not in message
    return message


@pytest.fixture
def talking(tmp_path):
    talk = Talk()
    about = {"model": "assistant-runs/build-001/sft-tools", "stage": "sft-tools", "block": 96,
             "tools": ["calc", "search"], "parameters": 169984}
    with TestClient(create_app(tmp_path, talk=talk, talk_about=about)) as client:
        yield client, talk


def test_the_reply_streams_as_lines_of_json_in_the_order_told(talking):
    client, talk = talking
    assert client.get("/api/talk").json() == {"loaded": True, "model": "assistant-runs/build-001/sft-tools",
                                              "stage": "sft-tools", "block": 96, "tools": ["calc", "search"],
                                              "parameters": 169984}
    got = events(client.post("/api/talk", json={"messages": ASK, "temperature": 0.7, "seed": 3, "show_tokens": True}))
    assert got == SCRIPT
    assert talk.asked == [dict(messages=ASK, temperature=0.7, seed=3, show_tokens=True)]
    history = ASK + [{"role": "assistant", "content": SCRIPT[-1]["written"]}, {"role": "user", "content": "Thanks!"}]
    events(client.post("/api/talk", json={"messages": history}))  # the page sends the whole conversation back
    assert talk.asked[-1] == dict(messages=history, temperature=0.0, seed=0, show_tokens=False)


@pytest.mark.parametrize("body", [
    {"messages": []},
    {"messages": [{"role": "system", "content": "You are a pirate."}]},
    {"messages": [{"role": "user", "content": "x" * 2001}]},
    {"messages": ASK * 51},
    {"messages": [{"role": "user"}]},
    {"messages": ASK, "temperature": 2.5},
    {"messages": ASK, "temperature": "nan"},
    {"messages": ASK, "seed": -1},
    {"messages": ASK, "top_p": 0.9},
    {"messages": ASK + [{"role": "assistant", "content": "Hello."}]},
])
def test_bad_conversations_get_one_line_and_the_assistant_is_not_asked(talking, body):
    client, talk = talking
    refused(client.post("/api/talk", json=body))
    assert talk.asked == []


def test_a_conversation_the_model_cannot_read_is_refused_before_the_stream(tmp_path):
    talk = Talk(fail=OmakaseError("the prompt is 130 tokens, but this model reads at most 96; shorten it"))
    with TestClient(create_app(tmp_path, talk=talk)) as client:
        assert refused(client.post("/api/talk", json={"messages": ASK})).startswith("the prompt is 130 tokens")
        assert client.post("/api/talk", json={"messages": ASK}).status_code == 422  # the one reply slot was freed


def test_a_failure_during_the_reply_ends_the_stream_with_one_line(tmp_path):
    talk = Talk(fail=RuntimeError("out of memory\nsomewhere"), fail_after=3)
    with TestClient(create_app(tmp_path, talk=talk)) as client:
        got = events(client.post("/api/talk", json={"messages": ASK}))
    assert got[:3] == SCRIPT[:3] and got[-1]["kind"] == "error" and len(got) == 4
    assert "out of memory" in got[-1]["error"] and "\n" not in got[-1]["error"]


def test_one_reply_at_a_time(tmp_path):
    started, go_on = threading.Event(), threading.Event()

    def slow(messages, on_event, **options):
        on_event(SCRIPT[0])
        started.set()
        go_on.wait(10)
        on_event(SCRIPT[-1])

    with TestClient(create_app(tmp_path, talk=slow)) as client:
        first = {}
        waiting = threading.Thread(target=lambda: first.update(r=client.post("/api/talk", json={"messages": ASK})))
        waiting.start()
        assert started.wait(10)  # the first reply is being written
        assert "answering another message" in refused(client.post("/api/talk", json={"messages": ASK}), 409)
        go_on.set()
        waiting.join(10)
        assert events(first["r"]) == [SCRIPT[0], SCRIPT[-1]]
        assert events(client.post("/api/talk", json={"messages": ASK})) == [SCRIPT[0], SCRIPT[-1]]


def test_without_an_assistant_the_route_says_how_to_load_one(tmp_path):
    with TestClient(create_app(tmp_path)) as client:
        assert client.get("/api/talk").json() == {"loaded": False, "how": NO_ASSISTANT}
        assert refused(client.post("/api/talk", json={"messages": ASK}), 503) == NO_ASSISTANT
    assert "omakase assistant build --quick" in NO_ASSISTANT
    assert "omakase web --assistant assistant-runs/build-001" in NO_ASSISTANT


def test_the_page_has_the_talk_section_and_its_words_in_both_languages(tmp_path):
    with TestClient(create_app(tmp_path)) as client:
        html = client.get("/").text
        assert 'id="talk"' in html and 'data-ch="talk"' in html and "/static/talk.js" in html
        assert "omakase web --assistant assistant-runs/build-001" in html
        assert client.get("/static/talk.js").status_code == 200
        en, zh = client.get("/api/catalogue/en").json(), client.get("/api/catalogue/zh").json()
    talk_keys = {k for k in en if k.startswith("talk.")}
    assert talk_keys == {k for k in zh if k.startswith("talk.")}
    assert {"talk.title", "talk.try", "talk.notice", "talk.end.end", "talk.end.length", "talk.end.block",
            "talk.end.calls", "talk.tool.calc", "talk.tool.search"} <= talk_keys
    assert all(en[k] != zh[k] for k in talk_keys - {"talk.placeholder"})  # the assistant reads English only


# --- the real stream on a scripted model, composed as the command line composes it ---------------------

def test_the_assistants_own_stream_comes_through_unchanged(tmp_path):
    from omakase.assistant.skills import chat_format, tools
    from omakase.assistant.skills.calculator import calculator_tool
    from omakase.assistant.skills.stream import stream_reply
    from omakase.bpe import BPE

    bpe = BPE.train("That is $50 in all. 3*12+2*7 " * 20, 256 + 20, specials=chat_format.SPECIALS + tools.TOOL_SPECIALS)
    sp = bpe.special
    script = [sp[tools.CALC]] + bpe.encode("3*12+2*7") + [sp[tools.CALC_END]] + bpe.encode("That is $50.")

    def talk(messages, on_event, *, temperature, seed, show_tokens):
        engine = Scripted(script, sp[chat_format.END], bpe.vocab_size)
        stream_reply(engine, bpe, messages, {"calc": calculator_tool}, on_event, temperature=temperature, seed=seed,
                     show_tokens=show_tokens)

    told = []
    talk(ASK, told.append, temperature=0.0, seed=0, show_tokens=True)
    with TestClient(create_app(tmp_path, talk=talk)) as client:
        got = events(client.post("/api/talk", json={"messages": ASK, "show_tokens": True}))
    assert got == told
    assert [e for e in got if e["kind"] == "call"] == [{"kind": "call", "tool": "calc", "query": "3*12+2*7",
                                                        "result": "50"}]
    assert got[-1]["written"] == "<|calc|>3*12+2*7<|/calc|><|result|>50<|/result|>That is $50."
