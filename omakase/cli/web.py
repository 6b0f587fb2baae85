"""`omakase web`: the web kitchen, a local page on the real engines."""

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
    dry_run: bool = dry_run_option(),
) -> int:
    """Open Ming's kitchen in a browser: train him live, cook, look inside, trace and turn his dials."""
    for path in checkpoint or []:  # every checkpoint is read and checked before the port is taken
        if not path.is_file():
            raise OmakaseError(f"--checkpoint {path} is not a file")
        ckpt_io.load(path)  # a truncated file or an assistant's (BPE) checkpoint is refused here, in one line
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
    app = create_app(RUNS, list(checkpoint or []))
    if host != "127.0.0.1":
        console.print(f"[bold yellow]warning:[/] binding to {host}: anyone who can reach this address can use "
                      f"the page and train on this machine", highlight=False)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"the web kitchen is open at http://{shown}:{port}/ (Ctrl-C to stop; a running training "
                  f"is saved)", highlight=False)
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
