"""A window inside a long function is named by the function it is in (its header), not by a line of its body."""

from omakase.lab.signatures import signature


def test_a_window_inside_a_function_shows_the_functions_signature():
    body = "    total += x\n    return total\n"
    header = "# stats.py\nclass Running:\n    def mean(self, values):"
    assert signature(body, 40, "stats.py", header) == (40, "def mean(self, values):")
    assert signature(body, 40, "stats.py") == (40, "total += x")  # no header: the first line of code, as before
    assert signature("def f():\n    pass\n", 3, "stats.py", header) == (3, "def f():")  # its own definition wins
