"""`--db http://HOST:PORT`: the same index and search commands against a Chroma server (`chroma run`)."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from omakase.cli import main
from omakase.errors import OmakaseError
from omakase.lab import store

pytest.importorskip("chromadb")

CHROMA = Path(sys.executable).with_name("chroma.exe" if sys.platform == "win32" else "chroma")
CODE = {
    "stats.py": "def median(xs):\n    ordered = sorted(xs)\n    return ordered[len(ordered) // 2]\n",
    "web/debounce.js": "function debounce(fn, wait) {\n  let timer;\n  return (...args) => {\n"
                       "    clearTimeout(timer);\n    timer = setTimeout(() => fn(...args), wait);\n  };\n}\n",
    "report.sql": "SELECT customer_id, SUM(total) AS revenue\nFROM orders\nGROUP BY customer_id;\n",
}


def free_port() -> int:
    """A port nothing listens on (the OS picks it; it is closed again at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    """`chroma run` on 127.0.0.1 with a fresh data folder; yields its URL and stops it afterwards."""
    if not CHROMA.exists():
        pytest.skip(f"no chroma executable next to {sys.executable}")
    port = free_port()
    log = (tmp_path / "chroma.log").open("wb")
    server = subprocess.Popen([str(CHROMA), "run", "--path", str(tmp_path / "server-data"),
                               "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a busy 2-core machine: it usually answers within 2-3 s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"chroma run did not answer at {url}: {(tmp_path / 'chroma.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_index_and_search_through_a_chroma_server(tmp_path, chroma_server, fake_model, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    repo = tmp_path / "repo"
    for rel, text in CODE.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    assert main(["lab", "index", str(repo), "--db", chroma_server]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.startswith("3 files: 3 indexed, 0 unchanged, 0 removed;") and f"in {chroma_server}" in out, out
    # nothing written here: no database folder, no lock file (the server keeps its data in server-data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chroma.log", "repo", "server-data"]

    assert main(["lab", "search", "clearTimeout(timer) setTimeout wait", "--k", "1", "--json",
                 "--db", chroma_server]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["searched"] == 3 and answer["results"][0]["path"] == "web/debounce.js", answer

    assert main(["lab", "search", "revenue orders customer_id", "--method", "bm25", "--k", "1", "--json",
                 "--db", chroma_server]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["path"] == "report.sql"

    # incremental through the server too: a second run finds every file unchanged
    assert main(["lab", "index", str(repo), "--db", chroma_server]) == 0
    assert " ".join(capsys.readouterr().out.split()).startswith("3 files: 0 indexed, 3 unchanged, 0 removed;")


@pytest.mark.parametrize("db, address", [
    ("lab-index", None),
    ("some/folder", None),
    ("http://127.0.0.1:8123", ("127.0.0.1", 8123, False)),
    ("HTTPS://chroma.example.org:8443/", ("chroma.example.org", 8443, True)),
    ("http://localhost", ("localhost", 8000, False)),  # chroma run's default port
    ("https://chroma.example.org", ("chroma.example.org", 443, True)),
])
def test_server_address_tells_a_url_from_a_folder(db, address):
    assert store.server_address(db) == address


@pytest.mark.parametrize("db, says", [
    ("ftp://127.0.0.1:21", "not ftp://"),
    ("http://127.0.0.1:port", "the port is not a number"),
    ("http://127.0.0.1:99999", "the port is not a number"),
    ("http://:8000", "no host"),
    ("http://127.0.0.1:8000/api", "give only http://HOST:PORT"),
])
def test_a_bad_server_address_is_one_clear_line(db, says):
    with pytest.raises(OmakaseError, match=says):
        store.server_address(db)


def test_no_server_answering_is_one_line_naming_how_to_start_one(tmp_path, no_model, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "a.py").write_text("def f():\n    return 1\n")
    for args in (["lab", "index", str(tmp_path / "repo")], ["lab", "search", "anything"]):
        assert main([*args, "--db", url]) == 2
        err = capsys.readouterr().err.strip()
        assert err == (f"omakase: error: no Chroma server answers at {url}; start one with: "
                       f"chroma run --path DIR --host 127.0.0.1 --port {url.rsplit(':', 1)[1]}"), err


def test_a_web_server_that_is_not_chroma_is_named_as_such(capsys):
    import http.server
    import threading

    class NotChroma(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b"no such page here")

        def log_message(self, *args):
            pass

    web = http.server.HTTPServer(("127.0.0.1", 0), NotChroma)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{web.server_address[1]}"
    try:
        assert main(["lab", "search", "anything", "--db", url]) == 2
    finally:
        web.shutdown()
        web.server_close()
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"omakase: error: something answers at {url}, but not as a Chroma server (it said: ") \
        and "\n" not in err, err
