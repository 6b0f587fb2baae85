"""omakase.model: the one generate, its KV cache, its sampler, load and the held-out loss.

The oracle for the cache: generating with it gives exactly the tokens of generating without it
(the whole sequence recomputed at every step), on every engine and on the assistant's model, at
temperature 0 and at a seeded temperature 1.
"""

import math
import random

import pytest

from omakase import checkpoint
from omakase.config import GPTConfig, init_params
from omakase.engines import ENGINES, engine_class, make_engine
from omakase.errors import OmakaseError
from omakase.model import Model, Sampler, ToolLimit, generate, held_out_loss, load, save, softmax
from omakase.tokenizer import Tokenizer

CONFIG = GPTConfig(vocab_size=11, n_layer=2, n_embd=12, n_head=3, block_size=8)
SCALAR_CONFIG = GPTConfig(vocab_size=11, n_layer=1, n_embd=8, n_head=2, block_size=6)


def engine_or_skip(name, config=CONFIG, seed=0):
    try:
        engine_class(name)
    except OmakaseError as e:
        pytest.skip(str(e))
    # a wide init (std 0.5): sharp distributions, so a wrong cache changes the tokens
    return make_engine(name, config, init_params(config, random.Random(seed), std=0.5))


def assistant_model(vocab=300, block=24):
    torch = pytest.importorskip("torch")
    from omakase.engines.torch import init_gpt

    torch.manual_seed(0)
    return Model.around(init_gpt(GPTConfig(vocab_size=vocab, n_layer=2, n_embd=32, n_head=4, block_size=block), 1,
                                 std=0.3), None)


def tokens(model, prompt, temperature, cache, n=1, seed=7, max_new=100):
    made = generate(model, prompt, sampler=Sampler(temperature, seed=seed), max_new=max_new, n=n, cache=cache)
    return [m.ids for m in made]


@pytest.mark.parametrize("temperature", [0.0, 1.0])
@pytest.mark.parametrize("engine", list(ENGINES))
def test_the_cache_gives_the_tokens_of_recomputing(engine, temperature):
    # the scalar engine builds a graph per token: a smaller model keeps the test quick
    config = SCALAR_CONFIG if engine == "scalar" else CONFIG
    model = Model(engine_or_skip(engine, config), None)
    for prompt in ([10], [10, 3, 4]):
        cached = tokens(model, prompt, temperature, cache=True)
        assert cached == tokens(model, prompt, temperature, cache=False)
        assert len(cached[0]) == config.block_size - len(prompt) + 1  # no stop: the block is filled
    rows = tokens(model, [10, 2], temperature, cache=True, n=3)
    assert rows == tokens(model, [10, 2], temperature, cache=False, n=3)


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_the_assistants_model_gives_the_same_tokens_with_and_without_the_cache(temperature):
    model = assistant_model()
    prompt = [5, 17, 250, 3]
    assert tokens(model, prompt, temperature, cache=True) == tokens(model, prompt, temperature, cache=False)
    assert tokens(model, prompt, temperature, True, n=4) == tokens(model, prompt, temperature, False, n=4)


def test_a_batch_of_rows_is_one_forward_pass_per_step_on_torch():
    model = assistant_model()
    calls = []
    forward = model.network.forward
    model.network.forward = lambda *a, **k: calls.append(a[0].shape) or forward(*a, **k)
    rows = generate(model, [5, 6, 7], sampler=Sampler(0.0), max_new=6, n=5)
    assert [r.ids for r in rows] == [rows[0].ids] * 5  # greedy: every row the same
    assert len(calls) == 6 and all(shape[0] == 5 for shape in calls)  # the prompt pass + 5 steps, all 5 rows each
    alone = generate(model, [5, 6, 7], sampler=Sampler(0.0), max_new=6)[0]
    assert alone.ids == rows[0].ids


def test_batched_prompts_decode_as_each_alone():
    model = assistant_model()
    prompts = [[5, 6, 7], [9, 1, 2], [100, 200, 3]]
    together = generate(model, prompts, sampler=Sampler(0.0), max_new=10)
    assert [m.ids for m in together] == [generate(model, p, sampler=Sampler(0.0), max_new=10)[0].ids for p in prompts]
    with pytest.raises(OmakaseError, match="equally long"):
        generate(model, [[1, 2], [3]], sampler=Sampler(0.0), max_new=3)


def test_the_sampler_draws_as_the_reference_does():
    logits = [0.3, -1.2, 2.0, 0.0, 0.7]
    for t in (0.5, 1.0, 2.0):
        sampler, reference = Sampler(t, seed=3), random.Random(3)
        assert sampler.probabilities(logits) == softmax(logits, t)  # the reference's floats, exactly
        drawn = [sampler.pick(logits) for _ in range(50)]
        assert drawn == [reference.choices(range(5), weights=softmax(logits, t))[0] for _ in range(50)]
    assert Sampler(0.0).pick(logits) == 2
    assert {Sampler(5.0, top_k=1, seed=s).pick(logits) for s in range(20)} == {2}  # top-1 is greedy
    top2 = Sampler(1.0, top_k=2).probabilities(logits)
    assert [i for i, p in enumerate(top2) if p > 0] == [2, 4] and math.isclose(sum(top2), 1.0)


@pytest.mark.parametrize("bad", [dict(temperature=-0.1), dict(temperature=math.nan), dict(temperature=math.inf),
                                 dict(top_k=-1), dict(top_k=1.5), dict(seed="x")])
def test_the_sampler_refuses_bad_values_in_one_line(bad):
    with pytest.raises(OmakaseError, match="temperature|top-k|seed"):
        Sampler(**bad)


def test_stop_max_new_and_banned_tokens():
    model = Model(engine_or_skip("numpy"), None)
    free = generate(model, [10], sampler=Sampler(0.0), max_new=100)[0]
    assert free.reason == "block"
    stop = free.ids[2]
    stopped = generate(model, [10], sampler=Sampler(0.0), max_new=100, stop=stop)[0]
    assert stopped.ids == free.ids[: free.ids.index(stop) + 1] and stopped.stopped
    assert stopped.text_ids == stopped.ids[:-1]
    short = generate(model, [10], sampler=Sampler(0.0), max_new=2)[0]
    assert short.ids == free.ids[:2] and short.reason == "length"
    banned = generate(model, [10], sampler=Sampler(1.0, seed=1), max_new=100, banned=[free.ids[0]] + list(range(5)))
    assert not set(banned[0].ids) & ({free.ids[0]} | set(range(5)))
    with pytest.raises(OmakaseError, match="reads at most 8"):
        generate(model, [1] * 9, sampler=Sampler(0.0), max_new=1)


class Echo:
    """Tools for a test: after the model writes token 1, answer with [2, 3]; at most `limit` answers."""

    banned = [2, 3]

    def __init__(self, limit=1):
        self.limit, self.answers = limit, 0

    def answer(self, ids):
        if ids[-1] != 1:
            return None
        if self.answers == self.limit:
            raise ToolLimit
        return [2, 3]

    def fed(self):
        self.answers += 1


class Always:
    """An engine that always prefers `token` (it ignores what it reads)."""

    def __init__(self, token, vocab=6, block=16):
        self.token, self.vocab = token, vocab
        self.config = GPTConfig(vocab_size=vocab, n_layer=1, n_embd=4, n_head=1, block_size=block)
        self.fed = []

    def new_cache(self, batch=1):
        return None

    def logits_cached(self, cache, rows, pos, every=False):
        self.fed.append((pos, list(rows[0])))
        return [[10.0 if t == self.token else 0.0 for t in range(self.vocab)]]


def test_tools_answer_inside_generate_and_their_tokens_are_not_written():
    engine = Always(1)
    made = generate(Model(engine, None), [0], sampler=Sampler(0.0), max_new=5, tools=Echo(limit=2))[0]
    assert made.ids == [1, 2, 3, 1, 2, 3, 1] and made.reason == "calls"
    assert made.written == [True, False, False, True, False, False, True]
    assert engine.fed == [(0, [0]), (1, [1, 2, 3]), (4, [1, 2, 3])]  # one cache: positions follow on


def test_load_reads_ming_and_an_assistant_stage(tmp_path):
    ckpt = checkpoint.Checkpoint(CONFIG, "abcdefghij", init_params(CONFIG, random.Random(0)), run={"seed": 5})
    checkpoint.save(ckpt, tmp_path / "ming.json")
    ming = load(tmp_path / "ming.json")
    assert ming.engine.name == "numpy" and isinstance(ming.tokenizer, Tokenizer) and ming.seed == 5
    assert load(tmp_path / "ming.json", "scalar").engine.name == "scalar"
    with pytest.raises(OmakaseError, match="character-level"):
        load(tmp_path / "ming.json", kind="bpe")
    with pytest.raises(OmakaseError, match="torch engine only"):
        load(tmp_path / "ming.json", "numpy", dtype="float32")

    torch = pytest.importorskip("torch")
    from omakase.bpe import BPE
    from omakase.engines.torch import init_gpt

    bpe = BPE.train("the miso soup costs four dollars " * 20, 256 + 10, specials=["<|end|>"])
    net = init_gpt(GPTConfig(vocab_size=bpe.vocab_size, n_layer=1, n_embd=16, n_head=2, block_size=16), 0)
    save(tmp_path / "sft", net, bpe, {"stage": "sft"})
    stage = load(tmp_path / "sft", kind="bpe", stage="sft")
    assert stage.engine.name == "torch" and stage.network.w("wte").dtype == torch.float32
    assert torch.equal(stage.network.w("lm_head"), net.w("lm_head"))
    with pytest.raises(OmakaseError, match="this step needs 'base'"):
        load(tmp_path / "sft", kind="bpe", stage="base")
    with pytest.raises(OmakaseError, match="BPE tokenizer"):
        load(tmp_path / "sft" / "model.json", kind="chars")


def test_the_held_out_loss_is_the_engines_token_weighted_mean():
    engine = engine_or_skip("numpy")
    docs = [[10, 1, 2, 10], [10, 3, 10], [10, 4, 5, 6, 7, 8, 9, 1, 2, 3, 10]]  # the last is cut to the block
    expected = engine.loss(docs)
    assert math.isclose(held_out_loss(engine, docs), expected, rel_tol=1e-12)
    engine.eval_batch = 1  # one document at a time: weighted by its predictions, the same mean
    assert math.isclose(held_out_loss(Model(engine, None), docs), expected, rel_tol=1e-12)
    with pytest.raises(OmakaseError, match="no held-out documents"):
        held_out_loss(engine, [])


def test_a_sequence_backend_decodes_and_measures_like_its_module():
    pytest.importorskip("torch")
    from omakase.model import SequenceBackend

    model = assistant_model()
    backend = Model(SequenceBackend(model.network, model.config), None)
    assert tokens(backend, [5, 6], 1.0, cache=False) == tokens(model, [5, 6], 1.0, cache=True)
    with pytest.raises(OmakaseError, match="no KV cache"):
        generate(backend, [5], sampler=Sampler(0.0), max_new=2)
    docs = [[1, 2, 3, 4], [5, 6, 7]]
    assert math.isclose(held_out_loss(backend, docs), held_out_loss(model, docs), rel_tol=1e-5)


def test_on_step_is_told_each_rows_new_tokens_as_they_come():
    def watched(model, prompt, **options):
        seen = {}
        made = generate(model, prompt, sampler=Sampler(1.0, seed=3),
                        on_step=lambda r, ids: seen.setdefault(r, []).append(list(ids)), **options)
        return made, seen

    made, seen = watched(Model(Always(1), None), [0], max_new=5, tools=Echo(limit=2))  # a tool's answer is one step
    assert seen == {0: [[1, 2, 3], [1, 2, 3], [1]]} and made[0].reason == "calls"
    model = Model(engine_or_skip("numpy"), None)
    free = generate(model, [10], sampler=Sampler(0.0), max_new=100)[0]
    for options in (dict(n=3, max_new=100), dict(n=3, max_new=2), dict(max_new=100, stop=free.ids[2])):
        made, seen = watched(model, [10], **options)
        assert sorted(seen) == list(range(len(made)))
        for r, out in enumerate(made):
            assert all(len(ids) == 1 for ids in seen[r])  # no tools: one token a step
            assert [t for ids in seen[r] for t in ids] == out.ids  # the stop or block token included
    prompts = [[10, 1], [10, 2]]  # with tools, a batch of prompts goes one by one: each still told its row
    made, seen = watched(Model(Always(1), None), prompts, max_new=3, tools=Echo(limit=0))
    assert {r: [t for ids in steps for t in ids] for r, steps in seen.items()} == {0: made[0].ids, 1: made[1].ids}
