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


def test_the_shipped_names_need_no_set_up(monkeypatch, tmp_path):
    monkeypatch.delenv("OMAKASE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty cache, and no network is asked
    monkeypatch.setattr(data.urllib.request, "urlopen", _offline)
    path = data.resolve(None)
    assert path == data.SHIPPED / "names.txt" and data.sha256_of(path) == data.KNOWN["names"].sha256
    assert data.resolve("names") == path


def test_a_variable_without_the_file_falls_back_to_the_shipped_copy(monkeypatch, tmp_path):
    monkeypatch.setenv("OMAKASE_DATA_DIR", str(tmp_path / "nowhere"))
    assert data.resolve(None) == data.SHIPPED / "names.txt"
    (tmp_path / "names.txt").write_text("ann\nbo\n")
    monkeypatch.setenv("OMAKASE_DATA_DIR", str(tmp_path))
    assert data.resolve(None) == tmp_path / "names.txt"  # the variable beats the shipped copy


def test_the_shipped_copy_is_read_whatever_the_variable_holds(monkeypatch, tmp_path):
    (tmp_path / "names.txt").write_text("ann\nbo\n")
    monkeypatch.setenv("OMAKASE_DATA_DIR", str(tmp_path))
    assert data.shipped("names") == data.SHIPPED / "names.txt"  # the assistant's spelling words: every machine's
    with pytest.raises(OmakaseError, match="not a data set shipped"):
        data.shipped("shakespeare")


def test_a_damaged_shipped_copy_is_refused(monkeypatch, tmp_path):
    monkeypatch.delenv("OMAKASE_DATA_DIR", raising=False)
    (tmp_path / "names.txt").write_text("tampered\n")
    monkeypatch.setattr(data, "SHIPPED", tmp_path)
    with pytest.raises(OmakaseError, match="sha256"):
        data.resolve(None)


def test_download_is_verified_and_cached(tmp_path, monkeypatch):
    blob = b"ann\nbo\n"
    monkeypatch.delenv("OMAKASE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setitem(data.KNOWN, "toy", data.Source("toy.txt", "https://example.invalid/toy.txt",
                                                        hashlib.sha256(blob).hexdigest()))
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(blob))
    path = data.resolve("toy")
    assert path == tmp_path / "omakase" / "toy.txt" and data.read_docs(path) == ["ann", "bo"]


def test_a_download_with_the_wrong_sha256_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("OMAKASE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"tampered\n"))
    with pytest.raises(OmakaseError, match="sha256"):
        data.resolve("shakespeare")
    assert not (tmp_path / "omakase" / "tinyshakespeare.txt").exists()


def _offline(url, timeout):
    raise urllib.error.URLError("no network")


def test_offline_without_a_copy_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.delenv("OMAKASE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(data.urllib.request, "urlopen", _offline)
    with pytest.raises(OmakaseError, match="OMAKASE_DATA_DIR"):
        data.resolve("shakespeare")


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
