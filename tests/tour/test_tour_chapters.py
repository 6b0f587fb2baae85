"""The tour's chapters: every number measured on a small Ming, and the story told from them."""

import math

import numpy as np
import pytest

from omakase.autograd import TECHNIQUES
from omakase.config import count_params, param_shapes
from omakase.tour import chapters, drawing, html_page, story
from omakase.tour.chapters import (ch1_records, ch3_assembly_line, ch4_scorecard, ch5_tracing, ch6_training,
                                   ch7_graduation, ch8_michelin)
from tour_data import SMALL, WORDS, csv_rows, told


def test_the_example_comes_from_the_data_when_emma_is_not_there(kitchen, measured):
    assert kitchen.example in WORDS and kitchen.example != "emma"
    d = measured[1]
    assert d["n_docs"] == len(WORDS) and d["n_train"] + d["n_val"] == len(WORDS)
    assert d["reversed"] == kitchen.example[::-1]
    told = chapters.tell(1, d, story.Catalogue("en"))
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
    assert "karpathy.github.io/2026/02/12/microgpt" in story.Catalogue("en").entries["tour.intro"]


def test_the_first_dish_is_close_to_the_blindfold_only_when_it_is(measured):
    d = dict(measured[4])
    for step1, word in ((d["blind"] + 0.05, "close to"), (d["blind"] + 0.5, "more than"), (d["blind"] - 0.5, "less than")):
        d["step1"] = step1
        paras = [b.text for b in chapters.tell(4, d, story.Catalogue("en")).blocks if isinstance(b, story.Para)]
        assert any(word in p for p in paras)


def test_cards_alike_are_measured_against_the_random_cards(measured):
    d = measured[2]
    a, b, cosine = d["alike_before"]
    t = story.Catalogue("en")
    pair = f"\"{story.course(t, a)}\" and \"{story.course(t, b)}\" ({cosine:.2f})"
    assert pair in told(measured)  # the untrained baseline is told beside the trained pairs


@pytest.mark.parametrize("lang", story.LANGUAGES)
def test_every_chapter_ends_with_a_question_answered_by_the_model(measured, drawn, lang):
    t = story.Catalogue(lang)
    told = [chapters.tell(n, d, t) for n, d in measured.items()]
    for chapter in told:
        questions = [b for b in chapter.blocks if isinstance(b, story.Question)]
        assert len(questions) == 1 and questions[0].text and questions[0].answer, chapter.number
        assert all(q.answer not in b.text for q in questions for b in chapter.blocks if isinstance(b, story.Para))
    html = html_page.page(t, ["intro"], told, drawn, story.metaphor_map(t))
    assert html.count('<details class="question">') == len(told) and "<script" not in html


def test_question_answers_are_computed_from_the_chapter(kitchen, measured):
    t = story.Catalogue("en")
    b = measured[1]["backwards"]  # every locked-away menu scored both ways, counted again here
    menus = [w for w in kitchen.run.val_docs if 2 <= len(w) < kitchen.config.block_size and w != w[::-1]
             and w[::-1] not in kitchen.records]
    engine, tok = kitchen.run.engine, kitchen.tokenizer
    costlier = sum(ch1_records.mean_penalty(engine, tok, w[::-1]) > ch1_records.mean_penalty(engine, tok, w)
                   for w in menus)
    assert (b["n"], b["costlier"]) == (len(menus), costlier)
    assert f"{costlier} of {len(menus)}" in ch1_records.question(measured[1], t)[1]
    v = measured[6]["versus"]
    for sgd, adam, word in ((3.0, 2.0, "Higher"), (2.0, 3.0, "Not higher")):
        d6 = dict(measured[6], versus=dict(v, sgd_mean=sgd, adam_mean=adam))
        assert ch6_training.question(d6, t)[1].startswith(word)
    d5 = measured[5]
    name, _, influence = d5["dials"][0]
    assert f"goes {'up' if influence > 0 else 'down'}" in ch5_tracing.question(d5, t)[1]
    # the nudge test is measured, and backpropagation's influence predicts it (to first order)
    assert d5["nudged_change"] == pytest.approx(influence * d5["nudge"], rel=0.05)
    # an average penalty read back as a bet: e^-loss, against the blindfold's 1 / vocabulary
    d4 = measured[4]
    share = math.exp(-d4["held_out"])
    assert f"{100 * share:.1f}%" in ch4_scorecard.question(d4, t)[1]
    assert f"{share * d4['vocab']:.1f} times" in ch4_scorecard.question(d4, t)[1]


def test_on_other_data_the_articles_names_numbers_are_left_out(measured):
    """WORDS is not names.txt: the article's vote, growth curve and quoted names are about names.txt only."""
    assert measured[3]["article_vote"] == [] and measured[7]["article_names"] == []
    assert all(stage["article"] is None for stage in measured[6]["stages"])
    text = told(measured)
    assert "karia" not in text and "illustration, not measured" not in text and "article's" not in text
    growth = next(b for b in chapters.tell(6, measured[6], story.Catalogue("en")).blocks if isinstance(b, story.Table))
    assert len(growth.headers) == 3  # no column of the article's numbers, which are for names.txt
    names = {**measured[6], "stages": [dict(s, article="2.37") for s in measured[6]["stages"]]}
    assert "the article's growth curve" in "\n".join(
        b.text for b in chapters.tell(6, names, story.Catalogue("en")).blocks if isinstance(b, story.Para))


def test_menus_longer_than_the_block_are_counted_not_cut_silently(measured):
    d = dict(measured[1], too_long=2, block=16)
    paras = [b.text for b in chapters.tell(1, d, story.Catalogue("en")).blocks if isinstance(b, story.Para)]
    assert any("2 of the menus are longer than Ming's block of 16" in p for p in paras)
    assert measured[1]["too_long"] == sum(len(w) + 1 > measured[1]["block"] for w in WORDS)


def test_one_adam_step_on_one_menu_lowers_its_penalty(kitchen, measured):
    one = measured[6]["one_step"]
    assert one["example"] == kitchen.example and len(one["before"]) == len(kitchen.example) + 1  # its courses, bell
    assert one["penalty_after"] < one["penalty_before"]
    assert one["before"] != one["after"] and kitchen.ming.final.params == kitchen.run.checkpoint().params  # a copy
    _, rows = ch6_training.adam_step(measured[6], drawing.words("en"))
    penalties = csv_rows(rows)
    assert sum(float(r["penalty_after"]) for r in penalties) / len(penalties) == pytest.approx(one["penalty_after"])


def test_the_scorecard_scores_chapter_3s_moment(measured):
    assert (measured[4]["truth"], measured[4]["p_truth"]) == (measured[3]["truth"], measured[3]["p_truth"])


def test_the_training_time_is_training_alone_and_the_tours_extras_are_timed_apart(kitchen):
    from omakase.cli.tour import origin

    record = kitchen.ming.record
    assert record["seconds"] > 0 and record["extra_seconds"] > 0 and record["stages"] == len(kitchen.ming.stages)
    line = origin(kitchen.ming, story.Catalogue("en"))
    assert f"{record['seconds']:.1f} s of training" in line and f"{record['extra_seconds']:.1f} s more" in line


def test_the_records_table_labels_the_training_set_and_what_was_studied(measured):
    d = measured[1]
    table = next(b for b in chapters.tell(1, d, story.Catalogue("en")).blocks if isinstance(b, story.Table))
    values = {row[1]: row[2] for row in table.rows}
    assert values["training set"] == f"{d['n_train']:,}" and values["training examples seen (steps × batch)"] == (
        f"{d['seen']:,}")


def test_the_graph_starts_from_exactly_the_dials_the_menu_touches(kitchen, measured):
    d = measured[5]
    assert sum(n for _, n in d["touched"]) == d["leaves"]  # no constant is a node: the leaves are dials
    served = kitchen.tokenizer.encode(d["example"])[:-1]
    assert dict(d["touched"])["card"] == len(set(served)) * kitchen.config.n_embd
    assert "and a few fixed numbers" not in told(measured)


def test_a_card_dial_and_a_tag_dial_that_are_added_are_said_to_share_their_influence(measured):
    d = dict(measured[5])
    grad = 1.2345
    d["dials"] = [("wte[3][6]", 0, grad), ("wpe[2][6]", 1, grad), ("lm_head[0][0]", 2, 0.5)]
    d["dial_cells"] = [("wte", 3, 6), ("wpe", 2, 6), ("lm_head", 0, 0)]
    t = story.Catalogue("en")
    said = [b.text for b in ch5_tracing.same_influence(d, t, ["card", "tag", "vote"])]
    assert len(said) == 1 and f"{grad:+.4f}" in said[0] and "combined (added)" in said[0]
    d["dials"] = [("wte[3][6]", 0, grad), ("wpe[2][6]", 1, -grad), ("lm_head[0][0]", 2, 0.5)]
    assert ch5_tracing.same_influence(d, t, ["card", "tag", "vote"]) == []  # different influences: nothing to say


def test_adams_multiplier_is_put_beside_plain_trainings_step(measured):
    s = measured[6]["spread"]
    assert s["low"] == pytest.approx(s["x10"] / s["lr"]) and s["high"] == pytest.approx(s["x90"] / s["lr"])
    text = told(measured)
    assert f"{s['low']:,.0f} to {s['high']:,.0f} times plain training's {s['lr']:.5f}" in text


def test_a_menu_cut_at_the_block_is_not_an_invention(kitchen, measured):
    for menu in measured[7]["menus"]:
        cut = sum(len(name) >= kitchen.config.block_size for name in menu["names"])
        invented = sum(bool(n) and n not in kitchen.records and len(n) < kitchen.config.block_size
                       for n in menu["names"])
        assert (menu["cut"], menu["invented"]) == (cut, invented)
    d = dict(measured[7], menus=[dict(m, cut=2) for m in measured[7]["menus"]])
    assert any("never drew the closing bell" in b.text for b in chapters.tell(7, d, story.Catalogue("en")).blocks
               if isinstance(b, story.Para))


def test_the_temperature_question_gives_the_plain_votes_share_first(measured):
    asked, answer = ch7_graduation.question(measured[7], story.Catalogue("en"))
    top, shares = ch7_graduation.favourite(measured[7])
    assert f"{100 * shares[1.0]:.1f}%" in asked and f"{100 * shares[0.1]:.1f}%" in answer
    assert shares[0.1] > shares[1.0] > shares[1.5]  # sharper below 1, flatter above, for the favourite


def test_the_big_kitchens_are_compared_in_tokens_and_without_overstating(kitchen, measured):
    d = measured[8]
    assert d["n_tokens"] == sum(len(doc) + 1 for doc in kitchen.ming.docs)  # every course, closing bells included
    text = told(measured)
    assert "the same six techniques and the same line" not in text and "SwiGLU" in text
    q, a = ch8_michelin.question(d, story.Catalogue("en"))
    gpt2 = d["models"][1]
    assert f"{gpt2['vocab'] * gpt2['n_embd']:,}" in a  # what sharing the cards saves, from the published shape


def test_chapter_3_follows_one_chef_through_query_key_score_share_and_value(measured):
    d = measured[3]
    r = d["roundtable"]
    assert r["shares"] == pytest.approx(d["attention"][r["chef"] - 1])  # recomputed from the dials = traced
    assert max(r["shares"]) == max(max(w) for w in d["attention"])  # the most decided chef is followed
    assert r["shifted"] == pytest.approx(r["shares"])  # the question's answer: +1 on every score changes nothing
    assert len(r["keys"]) == len(r["values"]) == len(r["scores"]) == len(d["served"])
    handed = np.sum([s * np.array(v) for s, v in zip(r["shares"], r["values"])], axis=0)
    assert r["handed"] == pytest.approx(handed.tolist())
    assert r["sum"] < r["stock"] + r["spoonful"]  # sizes add as arrows, not as numbers
    assert r["sum"] == pytest.approx(d["after_attention"])
    text = told(measured)
    for word in ("stock", "size", "query", "key", "value", "share", "palate cleanser"):
        assert word in text, word


def test_the_articles_vote_stands_in_columns_beside_ours():
    d = {"vote": [("i", 0.25), ("a", 0.23), ("e", 0.17), ("y", 0.08), ("o", 0.05)],
         "article_vote": [("a", 0.70), ("e", 0.15), ("i", 0.08)]}
    table = ch3_assembly_line.vote_table(d, story.Catalogue("en"))
    assert len(table.headers) == 5 and len(table.rows) == 5
    assert table.rows[0] == ["1", "i", "25.0%", "a", "70.0%"] and table.rows[4][3:] == ["", ""]
    assert len(ch3_assembly_line.vote_table({**d, "article_vote": []}, story.Catalogue("en")).headers) == 3


def test_the_notebooks_and_the_position_tag_are_taught_before_the_map_uses_them(measured):
    text = told(measured)
    assert "notebook" in text and "tag of its position" in text


def test_chinese_uses_one_word_per_concept():
    entries = story.Catalogue("zh").entries
    text = "\n".join(entries.values())
    assert "风险旋钮" not in text and "朴素老主厨" not in text  # the risk dial is 冒险旋钮; the plain sensei a 老师
    assert all("厨师" not in v for k, v in entries.items() if k.startswith(("q3", "ch3", "ch4")))  # 副厨 for chefs


def test_a_ming_with_only_his_final_dials_gets_no_one_row_growth_curve(measured):
    d = dict(measured[6], stages=measured[6]["stages"][-1:])
    blocks = chapters.tell(6, d, story.Catalogue("en")).blocks
    growth = [b for b in blocks if isinstance(b, story.Table) and story.Catalogue("en")("col.held_out") in b.headers]
    assert growth == []
    assert any("no growth curve to show" in b.text for b in blocks if isinstance(b, story.Para))
