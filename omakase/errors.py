"""The one error type a user sees: a clear line, exit code 2, no traceback."""


class OmakaseError(Exception):
    """Bad input or a broken file. The message says what is wrong and how to fix it."""
