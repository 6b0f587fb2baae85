"""The BPE tokenizer: round trips for any text and any bytes, specials that text cannot forge, merges that compress."""

import random
import re

import pytest

from omakase.bpe import BPE, SPLIT, SPLIT_DIGITS
from omakase.errors import OmakaseError

TEXT = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n") * 8
SPECIALS = ["<|doc|>", "<|user|>", "<|assistant|>"]


@pytest.fixture(scope="module")
def bpe():
    return BPE.train(TEXT, 256 + 100 + len(SPECIALS), specials=SPECIALS)


def random_text(rng: random.Random, n: int) -> str:
    """Any Unicode text: ASCII, accents, CJK, emoji, controls, and specials' spellings, but no lone surrogates."""
    alphabets = ["abc xyz ", " \n\t\r", "0123456789", "'s're.,;!?_-", "éüßøñ", "日本語の料理", "🍣🍜👩‍🍳",
                 "\x00\x7f\u200b", "<|doc|>"]
    out = []
    while len(out) < n:
        if rng.random() < 0.1:
            ch = chr(rng.choice([rng.randrange(0xD800), rng.randrange(0xE000, 0x110000)]))
        else:
            ch = rng.choice(rng.choice(alphabets))
        out.append(ch)
    return "".join(out)


def test_the_tiny_example_merges_the_most_frequent_pair_first():
    bpe = BPE.train("aaabdaaabac", 256 + 3)  # minbpe's example: aa -> 256, ab -> 257, then 256 257 -> 258
    assert bpe.merges == [(97, 97), (97, 98), (256, 257)]
    assert bpe.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert bpe.piece(258) == b"aaab" and bpe.vocab_size == 259


def test_every_text_round_trips(bpe):
    rng = random.Random(0)
    for _ in range(300):
        text = random_text(rng, rng.randrange(0, 60))
        ids = bpe.encode(text)
        assert bpe.decode(ids) == text
        assert "".join(re.findall(SPLIT, text)) == text  # the pre-split loses nothing
        assert all(0 <= i < bpe.vocab_size - len(SPECIALS) for i in ids)  # ordinary text never yields a special


def test_any_bytes_round_trip_at_the_bytes_level(bpe):
    rng = random.Random(1)
    for _ in range(300):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 60)))
        assert bpe.decode_bytes(bpe.encode_bytes(blob)) == blob
    broken = b"caf\xc3"  # a multi-byte character cut in half decodes as U+FFFD, not an exception
    assert bpe.decode(bpe.encode_bytes(broken)) == "caf\ufffd"


def test_a_special_tokens_spelling_in_text_is_plain_bytes(bpe):
    doc = bpe.special["<|doc|>"]
    first = 256 + len(bpe.merges)  # specials come after every merge (this text runs out of repeated pairs early)
    assert bpe.special == {"<|doc|>": first, "<|user|>": first + 1, "<|assistant|>": first + 2}
    ids = bpe.encode("hello <|doc|> and <|user|>")
    assert doc not in ids and bpe.special["<|user|>"] not in ids
    assert bpe.decode(ids) == "hello <|doc|> and <|user|>"
    assert bpe.decode([doc] + bpe.encode("Speak")) == "<|doc|>Speak" and bpe.piece(doc) == b"<|doc|>"


def test_training_is_deterministic_and_merges_compress_their_text(bpe):
    again = BPE.train(TEXT, bpe.vocab_size, specials=SPECIALS)
    assert again.merges == bpe.merges
    assert len(bpe.merges) > 50 and len(bpe.encode(TEXT)) < len(TEXT.encode("utf-8")) / 2  # the merges compress
    progress = []
    BPE.train(TEXT, 256 + 10, progress=lambda done, total: progress.append((done, total)))
    assert progress == [(i, 10) for i in range(1, 11)]


def test_training_stops_when_no_pair_repeats():
    bpe = BPE.train("abcd", 1000)
    assert bpe.merges == [] and bpe.vocab_size == 256


def test_the_digit_split_gives_every_digit_a_token_of_its_own_and_saves_with_the_tokenizer(tmp_path):
    text = "Prices: 9.11 and 9.9, a bill of $1234 for 12 guests; 2024 was 365 days. " * 40
    default = BPE.train(text, 256 + 60)
    digits = BPE.train(text, 256 + 60, pattern=SPLIT_DIGITS)
    assert any(len(default.piece(i).strip()) > 1 and default.piece(i).strip().isdigit()
               for i in default.encode(" 1234 2024"))  # the default merges digit runs
    for number in ("1234", "9.11", "2024", "0", "31415926"):
        pieces = [digits.piece(i) for i in digits.encode(f"a {number}.")]
        assert [p for p in pieces if p.isdigit()] == [c.encode() for c in number if c.isdigit()]
    rng = random.Random(1)
    for _ in range(100):
        sample = random_text(rng, rng.randrange(0, 40))
        assert "".join(re.findall(SPLIT_DIGITS, sample)) == sample
        assert digits.decode(digits.encode(sample)) == sample
    digits.save(tmp_path / "t.json")
    assert BPE.load(tmp_path / "t.json").encode(" 9.11") == digits.encode(" 9.11")


def test_save_load_and_more_specials(bpe, tmp_path):
    path = tmp_path / "tok.json"
    bpe.save(path)
    back = BPE.load(path)
    assert back.merges == bpe.merges and back.special == bpe.special and back.encode(TEXT) == bpe.encode(TEXT)
    more = bpe.with_specials(["<|user|>", "<|end|>"])
    assert more.merges == bpe.merges and more.vocab_size == bpe.vocab_size + 1
    assert more.special["<|end|>"] == bpe.vocab_size  # only the new one is appended
    assert {k: more.special[k] for k in bpe.special} == bpe.special
    assert BPE.from_dict(more.to_dict()).special == more.special


@pytest.mark.parametrize("damage, words", [
    (lambda d: {**d, "kind": "chars"}, "not a BPE tokenizer"),
    (lambda d: {**d, "merges": [[300, 1]]}, "do not exist yet"),
    (lambda d: {**d, "special": {"<|doc|>": 1}}, "do not follow the merges"),
])
def test_damaged_tokenizers_are_clear_errors(bpe, damage, words):
    with pytest.raises(OmakaseError, match=words):
        BPE.from_dict(damage(bpe.to_dict()))


def test_bad_input_is_one_clear_error(bpe, tmp_path):
    with pytest.raises(OmakaseError, match="too small"):
        BPE.train(TEXT, 257, specials=SPECIALS)
    with pytest.raises(OmakaseError, match="repeat"):
        BPE.train(TEXT, 300, specials=["<|a|>", "<|a|>"])
    with pytest.raises(OmakaseError, match="lone surrogate"):
        bpe.encode("ab\udc80")
    with pytest.raises(OmakaseError, match="not in the vocabulary"):
        bpe.decode([bpe.vocab_size])
    with pytest.raises(OmakaseError, match="not in the vocabulary"):
        bpe.decode([-1])  # not the last token, as a Python list index would have it
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(OmakaseError, match="corrupt"):
        BPE.load(tmp_path / "bad.json")


def test_compression_is_close_to_huggingface_tokenizers(names_path):
    tokenizers = pytest.importorskip("tokenizers", reason="the comparison needs HuggingFace tokenizers")
    lines = names_path.read_text().splitlines(keepends=True)
    text, held_out = "".join(lines[:-3000]), "".join(lines[-3000:])  # measured on names neither trained on
    ours = BPE.train(text, 256 + 200)
    theirs = tokenizers.Tokenizer(tokenizers.models.BPE())
    theirs.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=256 + 200, show_progress=False,
                                             initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet())
    theirs.train_from_iterator([text], trainer)
    assert theirs.get_vocab_size() == ours.vocab_size
    n_bytes = len(held_out.encode("utf-8"))
    ratio = (n_bytes / len(ours.encode(held_out))) / (n_bytes / len(theirs.encode(held_out).ids))
    assert 0.95 < ratio < 1.05, ratio  # bytes per token within 5%
