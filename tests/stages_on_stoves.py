"""Every assistant stage's training (pretraining, SFT, the reward model, DPO, RL) on tiny models, through fit,
on the processes torchrun starts or on one: `python stages_on_stoves.py OUT.json` writes each stage's losses.

tests/test_torch_distributed.py runs it on 2 processes (gloo) and on 1 and compares.
"""

import copy
import json
import sys
from types import SimpleNamespace

import torch

from omakase import distributed
from omakase.assistant.skills import chat_format, tools
from omakase.assistant.stages import dpo, preference, pretrain, reward_model, rl, sft
from omakase.bpe import BPE
from omakase.config import GPTConfig
from omakase.engines.torch import init_gpt
from omakase.plan import nanogpt_plan

TEXT = ("The miso soup costs 4 dollars. That comes to $50. How much are 2 eel bowls? Who are you? I'm Ming. ") * 20
HELLO = [{"role": "user", "content": "Who are you?"}, {"role": "assistant", "content": "I'm Ming."}]
PRICE = [{"role": "user", "content": "How much is the soup?"}, {"role": "assistant", "content": "It is $4."}]


def main(path: str) -> None:
    stoves = distributed.from_environment()
    torch.set_num_threads(1)
    bpe = BPE.train(TEXT, 256 + 30, specials=chat_format.SPECIALS + tools.TOOL_SPECIALS)

    def tiny():
        return init_gpt(GPTConfig(vocab_size=bpe.vocab_size, n_layer=1, n_embd=16, n_head=2, block_size=48), 0)

    out = {}
    base = tiny()
    docs = TEXT.split(". ")
    h = pretrain.pretrain(base, bpe, docs, docs[:8], nanogpt_plan(steps=4, batch_size=4, warmup=1, eval_every=2,
                                                                  eval_batches=1))
    out["pretrain"] = h.losses + [v for _, v in h.val] + [h.tokens]
    h, _ = sft.finetune(base, bpe, [HELLO, PRICE] * 4, [HELLO], nanogpt_plan(steps=4, batch_size=4, warmup=1,
                                                                              eval_every=2))
    out["sft"] = h.losses + [v for _, v in h.val] + [h.tokens]
    ask = preference.Prompt("toy", "Price?", "fact", "It is $5.", money=True)
    pairs = [preference.Pair(ask, f"It is ${n}.", f"It is {n}.", 6, 5) for n in range(4, 16)]
    rm = reward_model.reward_model(base)
    h = reward_model.train_reward_model(rm, bpe, pairs, nanogpt_plan(steps=3, batch_size=6, lr=1e-2, warmup=1))
    out["reward_model"] = h["losses"] + h["accuracy"]
    tuned, h = dpo.dpo(base, bpe, pairs, nanogpt_plan(steps=3, batch_size=6, lr=1e-2, warmup=1), beta=0.5)
    out["dpo"] = h["losses"] + h["margins"] + h["accuracy"]
    half = bpe.vocab_size // 2
    policy = copy.deepcopy(base)
    h = rl.grpo(policy, bpe, [SimpleNamespace(text="How much?"), SimpleNamespace(text="Who are you?")],
                nanogpt_plan(steps=3, batch_size=2, lr=1e-2, warmup=1),
                reward=lambda q, text: float(bool(bpe.encode(text)) and bpe.encode(text)[0] < half),
                reference=base, kl=0.05, group=4, max_new=3)
    out["rl"] = h.loss + h.reward + h.length + h.kl + h.teaching
    out["weights"] = [float(m.w("wte").detach().double().sum()) for m in (base, rm, tuned, policy)]
    if stoves.is_main:
        with open(path, "w") as f:
            json.dump(out, f)
    distributed.finish(stoves)


if __name__ == "__main__":
    main(sys.argv[1])
