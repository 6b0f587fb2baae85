"""Where the records come from, and how they are split."""

import hashlib
import io
import urllib.error

import pytest

from omakase import data
from omakase.errors import OmakaseError


def test_data_flag_beats_the_environment(tiny_data, monkeypatch):
    monkeypatch.setenv("OMAKASE_DATA_DIR", "/nowhere")
    assert data.resolve(str(tiny_data)) == tiny_data


def test_download_is_verified_and_cached(tmp_path, monkeypatch):
    blob = b"ann\nbo\n"
    monkeypatch.delenv("OMAKASE_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setitem(data.KNOWN, "toy.txt", data.Source("https://example.invalid/toy.txt",
                                                             hashlib.sha256(blob).hexdigest()))
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(blob))
    path = data.resolve(None, "toy.txt")
    assert path == tmp_path / "omakase" / "toy.txt" and data.read_docs(path) == ["ann", "bo"]


def test_a_download_with_the_wrong_sha256_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("OMAKASE_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"tampered\n"))
    with pytest.raises(OmakaseError, match="sha256"):
        data.resolve(None)
    assert not (tmp_path / "omakase" / "names.txt").exists()


def test_offline_without_a_copy_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.delenv("OMAKASE_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def offline(url, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    with pytest.raises(OmakaseError, match="OMAKASE_DATA_DIR"):
        data.resolve(None)


def test_reading_documents(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("  ann \n\n\nbo\n")
    assert data.read_docs(path) == ["ann", "bo"]
    path.write_bytes(b"ann\nb\xffo\n")
    with pytest.raises(OmakaseError, match="line 2"):
        data.read_docs(path)
    path.write_text("\n \n")
    with pytest.raises(OmakaseError, match="no documents"):
        data.read_docs(path)


def test_the_split_holds_out_the_last_tenth(names_path):
    n = len(data.read_docs(names_path))
    assert n == 32033
    assert data.split(n) == 28830  # the reference's 1,000 steps stay inside the training part
    assert data.split(5) == 5  # too few documents to hold any out
