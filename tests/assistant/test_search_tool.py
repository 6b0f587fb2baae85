"""The search tool: sentences of the restaurant's documents ranked by BM25 (bm25s)."""

import sys

import pytest

pytest.importorskip("bm25s")

from omakase.assistant.skills import search  # noqa: E402
from omakase.errors import OmakaseError  # noqa: E402

DOCUMENTS = ["Tonight's menu\n\nThe smoked yuzu eel bowl costs $14. The fried plum tofu tart is $9.",
             "A review\n\nKenji Mori makes the smoked yuzu eel bowl. The room was quiet and warm.",
             "Hours\n\nWe are closed on Monday. On Friday we're open 5 pm to 11 pm."]


def test_search_finds_the_sentence_that_states_the_fact():
    find = search.search_tool(DOCUMENTS, k=1)
    assert find("How much is the smoked yuzu eel bowl?") == "The smoked yuzu eel bowl costs $14."
    assert find("Who makes the smoked yuzu eel bowl?") == "Kenji Mori makes the smoked yuzu eel bowl."
    assert find("When do you open on Friday?") == "On Friday we're open 5 pm to 11 pm."
    assert find("zzz qqq") == "no results for 'zzz qqq'"
    assert find("what is it?") == "no results for 'what is it?'"  # stopwords only: nothing to match
    assert len(search.search_tool(DOCUMENTS, k=3, max_chars=50)("smoked yuzu eel bowl")) <= 50


def test_a_final_s_is_cut_so_come_finds_comes():
    assert search.words("Where do the eel skewers come from?") == ["do", "eel", "skewer", "come", "from"]
    assert search.words("The eel skewers comes from Saltmarsh. Glass") == ["eel", "skewer", "come", "from", "saltmarsh",
                                                                          "glass"]
    documents = ["The eel skewers are $12.", "The eel skewers comes from Saltmarsh."]
    assert search.search_tool(documents, k=1)("Where do the eel skewers come from?") == documents[1]


def test_ed_and_ing_are_cut_so_first_cooked_finds_how_they_cook():
    assert search.words("Where was it first cooked? Cooking") == ["first", "cook", "cook"]
    documents = ["The eel skewers are $12.", "The eel skewers are how they cook in Saltmarsh."]
    assert search.search_tool(documents, k=1)("Where were the eel skewers first cooked?") == documents[1]


def test_a_preposition_says_which_fact_is_asked():
    documents = ["The eel bowl is $14.", "The eel bowl has leek, kelp and lime in it.", "The eel bowl is cooked by Mei."]
    find = search.search_tool(documents, k=1)
    assert find("What is in the eel bowl?") == documents[1]  # "in" is not a stopword
    assert find("Who is the eel bowl cooked by?") == documents[2]


def test_a_sentence_in_the_same_words_as_a_better_one_is_not_returned_again():
    menu = ["eel bowl - $14", "eel bowl: $14", "eel bowl, $14", "The eel bowl comes from Upwell."]
    assert search.search_tool(menu, k=2)("eel bowl") == "eel bowl - $14 The eel bowl comes from Upwell."


def test_documents_are_cut_into_sentences_each_once():
    pieces = search.sentences(DOCUMENTS * 2)
    assert pieces[:3] == ["Tonight's menu", "The smoked yuzu eel bowl costs $14.", "The fried plum tofu tart is $9."]
    assert len(pieces) == len(set(pieces))
    assert "Hours" not in pieces  # a one-word heading is not a sentence worth finding


def test_a_rarer_word_weighs_more():
    scores = search.bm25(["the eel bowl costs 14", "the eel tart costs 9", "the eel soup costs 7"])
    s = scores("eel bowl")
    assert s[0] > s[1] == s[2] > 0  # "eel" is in every sentence, "bowl" in one


def test_search_refuses_nothing_to_search_and_a_bad_k():
    with pytest.raises(OmakaseError, match="nothing to search"):
        search.search_tool(["", "  "])
    with pytest.raises(OmakaseError, match="k must be at least 1"):
        search.search_tool(DOCUMENTS, k=0)


def test_without_bm25s_the_search_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "bm25s", None)  # `import bm25s` now fails as on a machine without the extra
    with pytest.raises(OmakaseError, match=r"pip install -e \"\.\[assistant\]\""):
        search.search_tool(DOCUMENTS)
