"""`omakase web`: the web kitchen, a local page on the real engines.

With --assistant DIR the command composes two wings: it loads the build's model and tools and hands the
web kitchen a plain callable that streams the assistant's replies (the web kitchen never imports the
assistant)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import List, Optional

import typer

from .. import checkpoint as ckpt_io
from ..errors import OmakaseError
from .common import RUNS, console, dry_run_option, listen

INTERRUPTED = 130  # the shell's exit code for a program stopped by Ctrl-C

INSTALL = 'the web kitchen needs its extra: pip install -e ".[web]" (fastapi, uvicorn)'


def web(
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on (1 to 65,535)."),
    host: str = typer.Option("127.0.0.1", help="Address to bind; only this machine by default. Another address "
                             "lets others on the network reach the page (and train on this machine)."),
    checkpoint: Optional[List[Path]] = typer.Option(None, "--checkpoint", "-c",
                                                    help="A checkpoint to offer first (repeat for more); the page "
                                                    "also lists every checkpoint in ./runs."),
    assistant: Optional[Path] = typer.Option(None, "--assistant", help="An assistant build folder (omakase "
                                             "assistant build): the page's last section talks with its sft-tools "
                                             "model (else its sft), with the calculator and the search. Needs "
                                             "PyTorch."),
    dry_run: bool = dry_run_option(),
) -> int:
    """Open Ming's kitchen in a browser: train him live, cook, look inside, trace and turn his dials, talk to an
    assistant."""
    for path in checkpoint or []:  # every checkpoint is read and checked before the port is taken
        if not path.is_file():
            raise OmakaseError(f"--checkpoint {path} is not a file")
        ckpt_io.load(path)  # a truncated file or an assistant's (BPE) checkpoint is refused here, in one line
    talk, talk_about = _assistant(assistant) if assistant is not None else (None, None)  # loaded before the port too
    try:
        import uvicorn

        from ..web.app import create_app
    except ImportError:
        raise OmakaseError(INSTALL) from None
    listening = listen(host, port)
    if dry_run:
        listening.close()
        console.print(f"dry run: every option checked and {host}:{port} free; the server was not started",
                      highlight=False)
        return 0
    app = create_app(RUNS, list(checkpoint or []), talk=talk, talk_about=talk_about)
    if host != "127.0.0.1":
        console.print(f"[bold yellow]warning:[/] binding to {host}: anyone who can reach this address can use "
                      f"the page and train on this machine", highlight=False)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"the web kitchen is open at http://{shown}:{port}/ (Ctrl-C to stop; a running training "
                  f"is saved)", highlight=False)
    if talk_about is not None:
        console.print(f"its last section talks with {talk_about['model']} ({talk_about['parameters']:,} parameters; "
                      f"tools: {', '.join(talk_about['tools'])})", highlight=False)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            # Ctrl-C: end the open event streams at once, or the graceful shutdown would wait on them
            # and then cancel them noisily; the app's shutdown then stops and saves a running training.
            app.state.closing.set()
            super().handle_exit(sig, frame)

    server = Server(config)
    try:
        with listening:
            server.run(sockets=[listening])  # the socket bound above: no second bind that could fail
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C: uvicorn re-raises it once it has shut down
        return INTERRUPTED
    return 0


def _assistant(folder: Path):
    """The assistant the page talks to: (talk, what the page says about it), from a build folder. Refused in
    one line when the folder is not a build, PyTorch is missing, or the model cannot be read."""
    from ..files import written
    from ..model import MODEL_FILE
    from .assistant import NEEDS

    if not folder.is_dir():
        raise OmakaseError(f"--assistant {folder} is not a folder; give an assistant build's folder (omakase "
                           f"assistant build --quick makes one in assistant-runs/)")
    stage = next((folder / s for s in ("sft-tools", "sft") if written(folder / s / MODEL_FILE)), None)
    if stage is None:
        raise OmakaseError(f"--assistant {folder} is not an assistant build: it has no finished sft-tools/ or sft/ "
                           f"model; make one with omakase assistant build --quick")
    try:
        import torch  # noqa: F401
    except ImportError:
        raise OmakaseError(f"--assistant: {NEEDS}") from None
    from ..assistant.skills.stream import stream_reply
    from ..assistant.skills.tools import has_tool_tokens, kitchen_tools
    from ..model import load

    loaded = load(stage, kind="bpe")
    if not has_tool_tokens(loaded.tokenizer):
        raise OmakaseError(f"--assistant {folder}: its tokenizer has no tool tokens (a build from before the tools); "
                           f"make a new one with omakase assistant build --quick")
    tools = kitchen_tools(folder)

    def talk(messages, on_event, *, temperature, seed, show_tokens):
        stream_reply(loaded, loaded.tokenizer, messages, tools, on_event, temperature=temperature, seed=seed,
                     show_tokens=show_tokens)

    about = {"model": str(stage), "stage": stage.name, "block": loaded.config.block_size, "tools": sorted(tools),
             "parameters": sum(p.numel() for p in loaded.network.parameters())}
    return talk, about
