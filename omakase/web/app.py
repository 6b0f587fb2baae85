"""The web kitchen's routes: thin. Each one bounds its input, asks kitchen.py (or the training
session), and returns the data as JSON. Every bad request gets one line: 422 for a bad value,
409 for a training conflict.

The last section talks to an assistant when the command line gives one: `talk`, a plain callable
(the web kitchen never imports the assistant), called as talk(messages, on_event, temperature=,
seed=, show_tokens=) and telling on_event each event of the reply as a dict; /api/talk streams
them to the page as lines of JSON.
"""

from __future__ import annotations

import asyncio
import json
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Callable, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from .. import anatomy
from ..errors import OmakaseError
from . import kitchen, shelf, tracing
from .training import Busy, Dials, Session

STATIC = Path(__file__).parent / "static"
CATALOGUE = Path(__file__).parent / "catalogue"
EVENTS_PER_SECOND = 20  # the event stream's pace: well above the 10 updates a second the page needs
STREAM_SECONDS = 3600  # an event stream closes after an hour at most (the page reconnects if it still watches)
TALK_WAIT_SECONDS = 2  # a message waits this long for the reply before it (a stopped one ends at its next token)

# The bounds of everything a reader may send (the model adds its own: vocabulary, block size).
Ckpt = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._-]*$")]
Name = Annotated[str, Query(max_length=64)]
Temperature = Annotated[float, Query(ge=0, le=2, allow_inf_nan=False)]
Seed = Annotated[int | None, Query(ge=0, le=2**31 - 1)]  # None: the run's own random stream, as `omakase cook`
Count = Annotated[int, Query(ge=1, le=50)]


class Start(BaseModel):
    """The dials of a training run (the reference preset's by default)."""
    model_config = ConfigDict(extra="forbid")
    n_layer: int = Field(1, ge=1, le=4)
    n_embd: int = Field(16, ge=4, le=64)
    n_head: int = Field(4, ge=1, le=8)
    steps: int = Field(1000, ge=1, le=20000)
    lr: float = Field(0.01, gt=0, le=0.1, allow_inf_nan=False)
    batch_size: int = Field(1, ge=1, le=32)
    seed: int = Field(42, ge=0, le=2**31 - 1)


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    checkpoint: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9._-]*$")
    matrix: str = Field(max_length=64)
    row: int = Field(ge=0, le=100000)
    col: int = Field(ge=0, le=100000)
    delta: float = Field(ge=-10, le=10, allow_inf_nan=False)
    name: str = Field(max_length=64)


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str = Field(max_length=2000)


class Say(BaseModel):
    """A conversation for the assistant: the guest's and the assistant's messages so far, the guest's last."""
    model_config = ConfigDict(extra="forbid")
    messages: list[Message] = Field(min_length=1, max_length=50)
    temperature: float = Field(0.0, ge=0, le=2, allow_inf_nan=False)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    show_tokens: bool = False


NO_ASSISTANT = ("no assistant is loaded: make one with omakase assistant build --quick, then open the page with "
                "omakase web --assistant assistant-runs/build-001")


class _Left(Exception):
    """The reader left (or the server is closing): the reply stops at its next token."""


async def _take(lock: threading.Lock, seconds: float) -> bool:
    """Acquire `lock` within `seconds`, polling: a waiting request that is cancelled holds nothing."""
    for _ in range(int(seconds * 20)):
        if lock.acquire(blocking=False):
            return True
        await asyncio.sleep(0.05)
    return lock.acquire(blocking=False)


def one_line(exc: RequestValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(part) for part in err.get("loc", ()) if part not in ("query", "body"))
    return f"{where or 'request'}: {err.get('msg', 'invalid')}".replace("\n", " ")


def create_app(runs: Path = Path("runs"), checkpoints: list[Path] = (), session: Session | None = None,
               talk: Callable | None = None, talk_about: dict | None = None) -> FastAPI:
    """The app. talk (see above) and talk_about (what the page says about the assistant: its folder,
    stage, parameters, block, tools) come from `omakase web --assistant DIR`."""
    books = shelf.Shelf(runs, list(checkpoints))
    session = session or Session(books)
    closing = threading.Event()  # set at shutdown (or by the CLI at Ctrl-C): open event streams end

    @asynccontextmanager
    async def lifespan(app):
        yield
        closing.set()
        await asyncio.to_thread(session.shutdown)  # Ctrl-C: a running training is stopped and saved

    app = FastAPI(title="omakase web kitchen", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.shelf, app.state.session, app.state.closing = books, session, closing

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc):
        return JSONResponse({"error": one_line(exc)}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request, exc):  # an unknown route or method: the same one-line shape as every refusal
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Busy)
    async def _busy(request, exc):
        return JSONResponse({"error": str(exc)}, status_code=409)

    @app.exception_handler(OmakaseError)
    async def _bad(request, exc):
        return JSONResponse({"error": str(exc).replace("\n", " ")}, status_code=422)

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/catalogue/{lang}")
    def catalogue(lang: Annotated[str, Field(max_length=8)]):
        words = anatomy.Words(lang)  # refuses a language it has no words for
        page = json.loads((CATALOGUE / f"{lang}.json").read_text(encoding="utf-8"))
        return {**words.entries, **page}  # the model's parts as the tour names them, and the page's own words

    @app.get("/api/checkpoints")
    def checkpoints():
        return {"default": books.default(), "checkpoints": [shelf.summary(i, p) for i, p in books.paths().items()]}

    @app.get("/api/model")
    def model(checkpoint: Ckpt = None):
        return kitchen.describe(books.model(checkpoint))

    @app.get("/api/cook")
    def cook(checkpoint: Ckpt = None, n: Count = 20, temperature: Temperature = 0.5, seed: Seed = None):
        return kitchen.graduation(books.model(checkpoint), n, temperature, seed)

    @app.get("/api/votes")
    def votes(name: Name, checkpoint: Ckpt = None, temperature: Temperature = 1.0):
        return kitchen.votes(books.model(checkpoint), name, temperature)

    @app.get("/api/score")
    def score(name: Name, checkpoint: Ckpt = None):
        return kitchen.scorecard(books.model(checkpoint), name)

    @app.get("/api/records")
    def records(name: Name, checkpoint: Ckpt = None):
        return kitchen.records(books.model(checkpoint), name)

    @app.get("/api/courses")
    def courses(name: Name, checkpoint: Ckpt = None):
        return kitchen.courses(books.model(checkpoint), name)

    @app.get("/api/assembly")
    def assembly(name: Name, checkpoint: Ckpt = None):
        return kitchen.assembly(books.model(checkpoint), name)

    @app.get("/api/dials")
    def dials(checkpoint: Ckpt = None):
        return kitchen.dials(books.model(checkpoint))

    @app.post("/api/turn")
    def turn(body: Turn):
        return kitchen.turn(books.model(body.checkpoint), body.matrix, body.row, body.col, body.delta, body.name)

    @app.get("/api/trace/worked")
    def trace_worked():
        return tracing.worked()

    @app.get("/api/trace/course")
    def trace_course(name: Name, checkpoint: Ckpt = None,
                     path: Annotated[int, Query(ge=0, lt=tracing.TOP_DIALS)] = 0):
        return tracing.course(books.model(checkpoint), name, path)

    @app.get("/api/compare")
    def compare(a: Ckpt, b: Ckpt, n: Count = 8, temperature: Temperature = 0.5, seed: Seed = None):
        return kitchen.compare(books.model(a), books.model(b), n, temperature, seed)

    @app.get("/api/training")
    def training_state(since: Annotated[int, Query(ge=0, le=10**7)] = 0):
        return session.status(since)

    @app.post("/api/training")
    def training_start(body: Start | None = None):
        return session.start(Dials(**(body or Start()).model_dump()))

    @app.post("/api/training/{action}")
    def training_control(action: str):
        controls = {"pause": session.pause, "resume": session.resume, "stop": session.stop}
        if action not in controls:
            raise OmakaseError(f"a training action is pause, resume or stop, got {action[:20]!r}")
        return controls[action]()

    @app.get("/api/training/events")
    async def training_events(request: Request, since: Annotated[int, Query(ge=0, le=10**7)] = 0):
        """Server-sent events: the new steps since the last event, EVENTS_PER_SECOND times a second,
        until the training ends, the reader leaves, the server closes, or an hour passes."""
        async def stream():
            sent, loop = since, asyncio.get_running_loop()
            deadline = loop.time() + STREAM_SECONDS
            while not closing.is_set() and loop.time() < deadline:
                status = session.status(sent)
                sent = status["step"]
                yield f"data: {json.dumps(status)}\n\n"
                if status["state"] not in ("running", "paused") or await request.is_disconnected():
                    return
                await asyncio.sleep(1 / EVENTS_PER_SECOND)
        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    talking = threading.Lock()  # one reply at a time: the machine's cores serve one model

    @app.get("/api/talk")
    def talk_status():
        return {"loaded": True, **(talk_about or {})} if talk is not None else {"loaded": False, "how": NO_ASSISTANT}

    @app.post("/api/talk")
    async def talk_reply(body: Say):
        """The reply as lines of JSON, one event each (assistant.skills.stream), as the model writes them.
        A conversation the model cannot read (too long, malformed) is refused in one line before any."""
        if talk is None:
            return JSONResponse({"error": NO_ASSISTANT}, status_code=503)
        if body.messages[-1].role != "user":
            raise OmakaseError("the last message must be the guest's (role user): it is the one answered")
        if not await _take(talking, TALK_WAIT_SECONDS):
            raise Busy("the assistant is answering another message; send this one when that reply ends")
        loop, events, left = asyncio.get_running_loop(), asyncio.Queue(), threading.Event()

        def put(event: dict | None) -> None:  # from the reply's thread to the stream (None: the reply ended)
            try:
                loop.call_soon_threadsafe(events.put_nowait, event)
            except RuntimeError:  # the server has closed its loop: nobody reads any more
                pass

        def on_event(event: dict) -> None:
            if left.is_set() or closing.is_set():
                raise _Left
            put(event)

        def reply() -> None:  # generation runs in its own thread; the server goes on serving
            try:
                talk([m.model_dump() for m in body.messages], on_event, temperature=body.temperature,
                     seed=body.seed, show_tokens=body.show_tokens)
            except _Left:
                pass
            except Exception as e:  # noqa: BLE001  one line for the page, whatever went wrong
                put({"kind": "error", "error": str(e).replace("\n", " ") if isinstance(e, OmakaseError)
                     else f"the reply failed: {e!r}"})
            finally:
                talking.release()
                put(None)

        threading.Thread(target=reply, name="talk", daemon=True).start()
        try:
            first = await events.get()
        except asyncio.CancelledError:  # the page left before the reply began
            left.set()
            raise
        if first is None or first["kind"] == "error":  # before the first event: a plain one-line refusal
            return JSONResponse({"error": first["error"] if first else "the reply ended before it began"},
                                status_code=422)

        async def lines():
            try:
                event = first
                while event is not None:
                    yield json.dumps(event, ensure_ascii=False) + "\n"
                    event = await events.get()
            finally:
                left.set()  # the page left or the reply ended: a reply still being written stops
        return StreamingResponse(lines(), media_type="application/x-ndjson", headers={"Cache-Control": "no-cache"})

    return app
