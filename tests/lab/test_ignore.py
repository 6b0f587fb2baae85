"""Leaving files out of an index: .gitignore-style patterns, a root .gitignore, --exclude."""

import pytest

from omakase.cli import main
from omakase.errors import OmakaseError
from omakase.lab import ignore
from omakase.lab.chunkers import code_files


def test_pattern_lines():
    assert ignore.parse("") is None and ignore.parse("   ") is None and ignore.parse("# a comment") is None
    p = ignore.parse("build/")
    assert (p.parts, p.dir_only, p.anchored, p.negated) == (("build",), True, False, False)
    p = ignore.parse("/top.py")
    assert (p.parts, p.anchored) == (("top.py",), True)
    p = ignore.parse("docs/*.py  ")  # trailing spaces dropped; a slash in the middle anchors
    assert (p.parts, p.anchored) == (("docs", "*.py"), True)
    assert ignore.parse("!keep.js").negated
    assert ignore.parse("\\#literal.py").parts == ("#literal.py",)


@pytest.mark.parametrize("pattern, path, is_dir, expected", [
    ("*.min.js", "a.min.js", False, True),
    ("*.min.js", "web/vendor/a.min.js", False, True),  # no slash: a name at any depth
    ("*.js", "web/a.jsx", False, False),
    ("build/", "build", True, True),
    ("build/", "src/build", True, True),
    ("build/", "build", False, False),  # a trailing slash: folders only
    ("/top.py", "top.py", False, True),
    ("/top.py", "sub/top.py", False, False),  # a leading slash anchors at the indexed folder
    ("src/*.py", "src/a.py", False, True),
    ("src/*.py", "src/deep/a.py", False, False),  # * never crosses a slash
    ("src/**/*.py", "src/deep/er/a.py", False, True),
    ("**/gen", "a/b/gen", True, True),
    ("fixture?.sql", "fixture1.sql", False, True),
    ("[ab].py", "c.py", False, False),
])
def test_matching(pattern, path, is_dir, expected):
    assert ignore.matches(ignore.parse(pattern), tuple(path.split("/")), is_dir) is expected


def test_the_last_matching_pattern_wins():
    patterns = [ignore.parse(x) for x in ("*.min.js", "!keep.min.js")]
    assert ignore.ignored(patterns, ("a.min.js",), False)
    assert not ignore.ignored(patterns, ("keep.min.js",), False)


def make_tree(root, files):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


TREE = {
    ".gitignore": "# generated\nbuild/\n*.min.js\n!keep.min.js\n/top.py\n\n",
    "build/gen.py": "x = 1\n",
    "src/app.py": "def app():\n    return 1\n",
    "src/app.min.js": "function a(){}\n",
    "src/keep.min.js": "function k(){}\n",
    "top.py": "y = 2\n",
    "sub/top.py": "z = 3\n",
    "vendor/lib.js": "function v(){}\n",
}


def rels(root, files):
    return {p.relative_to(root).as_posix() for p in files}


def test_code_files_honours_gitignore_and_excludes(tmp_path):
    root = make_tree(tmp_path / "repo", TREE)
    assert rels(root, code_files(root, gitignore=True)) == {"src/app.py", "src/keep.min.js", "sub/top.py", "vendor/lib.js"}
    assert rels(root, code_files(root)) == {p for p in TREE if p != ".gitignore"}  # off unless asked for
    got = code_files(root, exclude=["vendor/", "sub/*.py"], gitignore=True)
    assert rels(root, got) == {"src/app.py", "src/keep.min.js"}


def test_an_empty_exclude_pattern_is_refused(tmp_path):
    root = make_tree(tmp_path / "repo", TREE)
    for bad in ("", "  ", "# comment", "/"):
        with pytest.raises(OmakaseError, match="matches nothing"):
            code_files(root, exclude=[bad])


def test_everything_excluded_says_so(tmp_path):
    root = make_tree(tmp_path / "repo", {"a.py": "x = 1\n", "b.js": "f()\n"})
    with pytest.raises(OmakaseError, match=r"holds no \.py, \.js or \.sql file that is not excluded \(2 are\)"):
        code_files(root, exclude=["*.py", "*.js"])


def test_cli_index_excludes_and_can_ignore_gitignore(tmp_path, fake_model, capsys):
    root, db = make_tree(tmp_path / "repo", TREE), tmp_path / "db"
    assert main(["lab", "index", str(root), "--db", str(db), "--exclude", "vendor/", "--exclude", "sub/"]) == 0
    assert "2 files: 2 indexed" in capsys.readouterr().out  # src/app.py and src/keep.min.js
    # without .gitignore, everything but the excluded folders; the database follows
    assert main(["lab", "index", str(root), "--db", str(db), "--exclude", "vendor/", "--exclude", "sub/",
                 "--no-gitignore"]) == 0
    assert "5 files: 3 indexed, 2 unchanged, 0 removed" in capsys.readouterr().out
    # a file excluded later leaves the index
    assert main(["lab", "index", str(root), "--db", str(db), "--exclude", "vendor/", "--exclude", "sub/",
                 "--exclude", "*.min.js", "--no-gitignore"]) == 0
    assert "3 files: 0 indexed, 3 unchanged, 2 removed" in capsys.readouterr().out
