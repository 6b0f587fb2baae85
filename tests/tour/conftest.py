"""One small Ming per test session, trained on made-up words into a cache of its own, measured and drawn once."""

import pytest

from omakase.cli.tour import default_engine
from omakase.tour import chapters, gallery
from omakase.tour.ming import prepare
from tour_data import SMALL, WORDS


@pytest.fixture(scope="session")
def words(tmp_path_factory):
    path = tmp_path_factory.mktemp("words") / "words.txt"
    path.write_text("\n".join(WORDS) + "\n")
    return path


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    """The tour caches Ming under the user cache; keep the tests' Mings out of the real one."""
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def kitchen(words, cache):
    return chapters.open_kitchen(prepare(str(words), None, default_engine(), plan=SMALL))


@pytest.fixture(scope="session")
def measured(kitchen):
    return chapters.measure(kitchen, list(range(1, 9)))


@pytest.fixture(scope="session")
def drawn(measured, tmp_path_factory):
    """Every chapter's figures, drawn once: {(chapter, figure name): PNG path}."""
    out = tmp_path_factory.mktemp("figures")
    drawn = gallery.draw({n: (d, {}) for n, d in measured.items()}, out, workers=2)  # as the tour draws them
    return {(n, name): png for n, names in drawn.items() for name, png in names.items()}
