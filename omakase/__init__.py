"""omakase: how a GPT works, told as a kitchen you can run.

Ming the apprentice is a 4,192-parameter GPT (Karpathy's microgpt, reproduced
exactly). The package is laid out one concept per file: `config` (the model's
dials), `tokenizer`, `data`, `engines` (how the same model is computed),
`adam`, `train`, `sample`, `checkpoint`, and the `cli`.
"""

__version__ = "0.1.0"
