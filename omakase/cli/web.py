"""`omakase web`: the web kitchen, a local page on the real engines."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import OmakaseError
from .common import RUNS, console

INSTALL = 'the web kitchen needs its extra: pip install -e ".[web]" (fastapi, uvicorn)'


def web(
    port: int = typer.Option(8000, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Address to bind; only this machine by default. Another address "
                             "lets others on the network reach the page (and train on this machine)."),
    checkpoint: Optional[List[Path]] = typer.Option(None, "--checkpoint", "-c",
                                                    help="A checkpoint to offer first (repeat for more); the page "
                                                    "also lists every checkpoint in ./runs."),
) -> None:
    """Open Ming's kitchen in a browser: train him live, cook, look inside, trace and turn his dials."""
    if not 1 <= port <= 65535:
        raise OmakaseError(f"--port must be between 1 and 65535, got {port}")
    for path in checkpoint or []:
        if not path.is_file():
            raise OmakaseError(f"--checkpoint {path} is not a file")
    try:
        import uvicorn

        from ..web.app import create_app
    except ImportError:
        raise OmakaseError(INSTALL) from None
    _check_free(host, port)
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

    Server(config).run()


def _check_free(host: str, port: int) -> None:
    """Refuse a taken port or a foreign address in one line, before uvicorn would exit with a log."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise OmakaseError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
