"""From base model to assistant: Karpathy's "Deep Dive into LLMs like ChatGPT", runnable.

The kitchen's internet (world.py, documents.py) is cleaned like the web is
(pipeline.py), cut into word-pieces (../bpe.py, tokenview.py) and read by a
base model (pretrain.py): an internet document simulator. Conversations in a
chat format with special tokens (chat.py), written as labelers would
(labelers.py, smalltalk.py), switch its menu to an assistant (sft.py), that
talks (skills/reply.py, through omakase.model.generate) and is measured (evaluate.py). build.py runs every stage.
Needs the `assistant` extra (PyTorch and the data libraries).
"""
