"""Writing files so nothing is lost: a reserved name holds a placeholder until the result replaces it."""

from omakase import files


def test_a_reserved_name_is_not_a_written_file_until_the_result_replaces_it(tmp_path):
    path = tmp_path / "ming.json"
    assert files.claim(path) and not files.claim(path)  # the second run finds the name taken
    assert files.placeholder(path) is not None and not files.written(path)
    files.atomic_write_text(path, '{"config": {}}')
    assert files.placeholder(path) is None and files.written(path)
    (tmp_path / "empty.json").touch()
    assert not files.written(tmp_path / "empty.json") and not files.written(tmp_path / "missing.json")
