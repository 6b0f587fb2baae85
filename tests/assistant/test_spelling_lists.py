"""Spelling lists: pretraining text that spells training-side words, never a held-out one."""

from omakase.assistant.data.spelling_lists import spelling_lists
from omakase.assistant.skills import thinking


def test_lists_spell_training_words_after_a_space_and_never_a_held_out_one(small_world):
    words = thinking.training_words(small_world)
    lists = spelling_lists(words, 40, per_list=15)
    lines = [line for d in lists for line in d.text.splitlines()[1:]]
    assert len(lists) == 40 and len(lines) == 600 and all(d.kind == "spelling" and not d.facts for d in lists)
    held = {q.word for q in thinking.letter_questions(small_world, held_out=True)}
    for line in lines:
        word, letters = line.removeprefix("The word ").removesuffix(".").split(" is spelled ")
        assert letters.split(" ") == list(word) and word in words and word not in held
    assert len(set(lines)) == len(lines)  # each word once before any is listed again
    assert spelling_lists(words, 3, seed=1) == spelling_lists(words, 3, seed=1) != spelling_lists(words, 3, seed=2)
