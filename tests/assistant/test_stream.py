"""A reply as it is written: stream_reply's events, with a scripted model and the small BPE (conftest.py)."""

import pytest

from omakase.assistant.skills import chat_format
from omakase.assistant.skills.calculator import calculator_tool
from omakase.assistant.skills.stream import stream_reply
from omakase.assistant.skills.tools import CALC, SEARCH, as_written, render_with_tools, reply_with_tools
from omakase.errors import OmakaseError
from scripted_engine import Scripted


def scripted(script, bpe, block: int = 128) -> Scripted:
    return Scripted(script, bpe.special[chat_format.END], bpe.vocab_size, block)


BILL = [{"role": "user", "content": "3 at $12 and 2 at $7?"}]


def call(bpe, opener, query):
    return [bpe.special[opener]] + bpe.encode(query) + [bpe.special[opener.replace("<|", "<|/")]]


def streamed(script, bpe, conversation=BILL, **options):
    events = []
    said = stream_reply(scripted(script, bpe), bpe, conversation, {"calc": calculator_tool}, events.append, **options)
    return said, events


def test_the_call_and_its_result_come_before_the_answer_and_the_text_adds_up(small_bpe):
    answer = small_bpe.encode("That is $50. 好")  # 好 is three bytes: three tokens this BPE never merged
    script = call(small_bpe, CALC, "3*12+2*7") + answer + [small_bpe.special[chat_format.END]]
    said, events = streamed(script, small_bpe)
    kinds = [e["kind"] for e in events]
    called = kinds.index("call")
    assert kinds[:2] == ["prompt", "call_start"] and set(kinds[2:called]) == {"call_text"} and kinds[-1] == "end"
    assert set(kinds[called + 1:-1]) == {"text"}
    assert "".join(e["text"] for e in events[2:called]) == "3*12+2*7"  # the expression as the model writes it
    assert events[called] == {"kind": "call", "tool": "calc", "query": "3*12+2*7", "result": "50"}
    texts = [e["text"] for e in events if e["kind"] == "text"]
    assert "".join(texts) == said.text == "That is $50. 好"
    assert texts[-1] == "好" and "\ufffd" not in "".join(texts)  # never half a character
    assert len(texts) == len(answer) - 2  # a token a step; the character's first two bytes wait for the third
    end = events[-1]
    assert end["reason"] == "end" and end["text"] == said.text and end["written"] == as_written(said, small_bpe)
    assert end["tokens"] == sum(said.written) and "reply" not in end and "pieces" not in events[0]
    prompt = render_with_tools(BILL, small_bpe, reply=True).ids
    assert events[0] == {"kind": "prompt", "tokens": len(prompt), "block": 128}


def test_the_streamed_reply_is_the_reply(small_bpe):
    script = call(small_bpe, CALC, "1+1") + small_bpe.encode("Two.")
    said, _ = streamed(script, small_bpe)
    plain = reply_with_tools(scripted(script, small_bpe), small_bpe, BILL, {"calc": calculator_tool})
    assert (said.ids, said.written, said.calls, said.reason) == (plain.ids, plain.written, plain.calls, plain.reason)


def test_the_tokens_on_request_are_the_prompts_and_the_replys(small_bpe):
    history = BILL + [{"role": "assistant", "content": "<|calc|>3*12+2*7<|/calc|><|result|>50<|/result|>$50."},
                      {"role": "user", "content": "And 1 more at $7?"}]
    said, events = streamed(call(small_bpe, CALC, "50+7") + small_bpe.encode("$57."), small_bpe, history,
                            show_tokens=True)
    prompt = render_with_tools(history, small_bpe, reply=True).ids
    assert [i for i, _ in events[0]["pieces"]] == prompt
    assert "".join(p for _, p in events[0]["pieces"]) == small_bpe.decode(prompt)  # ASCII: every piece whole
    reply = events[-1]["reply"]
    assert [i for i, _, _ in reply] == said.ids and [w for _, _, w in reply] == said.written
    assert [w for i, _, w in reply if i == small_bpe.special["<|result|>"]] == [False]  # the tool wrote it


def test_every_way_a_reply_stops_is_said(small_bpe):
    _, events = streamed(small_bpe.encode("la la la la"), small_bpe, max_new=3)
    assert events[-1]["reason"] == "length" and events[-1]["tokens"] == 3
    _, events = streamed(call(small_bpe, CALC, "1+1") * 6, small_bpe)
    assert [e["kind"] for e in events].count("call") == 4 and events[-1]["reason"] == "calls"  # tools.MAX_CALLS
    _, events = streamed(small_bpe.encode("la la la la") * 40, small_bpe, max_new=500)
    assert events[-1]["reason"] == "block"
    _, events = streamed(call(small_bpe, SEARCH, "eel") + small_bpe.encode("Hm."), small_bpe)
    assert [e["result"] for e in events if e["kind"] == "call"] == ["refused: there is no search tool here"]


def test_an_unfinished_call_shows_nothing_of_its_text(small_bpe):
    script = small_bpe.encode("Let me add. ") + [small_bpe.special[CALC]] + small_bpe.encode("3*12+")
    said, events = streamed(script, small_bpe, max_new=len(script))
    texts = "".join(e["text"] for e in events if e["kind"] == "text")
    assert texts == said.text == "Let me add. " and events[-1]["reason"] == "length"
    assert "".join(e["text"] for e in events if e["kind"] == "call_text") == "3*12+"  # shown as a call, unfinished


def test_raising_from_on_event_stops_the_reply(small_bpe):
    class Enough(Exception):
        pass

    seen = []

    def on_event(event):
        seen.append(event)
        if event["kind"] == "text":
            raise Enough

    with pytest.raises(Enough):
        stream_reply(scripted(small_bpe.encode("That is all, thank you."), small_bpe), small_bpe, BILL, None, on_event)
    assert [e["kind"] for e in seen] == ["prompt", "text"]


def test_a_conversation_too_long_or_malformed_is_one_line_before_any_event(small_bpe):
    events = []
    with pytest.raises(OmakaseError, match="reads at most"):
        stream_reply(scripted([], small_bpe, block=8), small_bpe, BILL, None, events.append)
    with pytest.raises(OmakaseError, match="message 1"):
        stream_reply(scripted([], small_bpe), small_bpe, [{"role": "assistant", "content": "<|calc|>1"}] + BILL, None,
                     events.append)
    assert events == []
