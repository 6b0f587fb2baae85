"""`omakase tour`: the kitchen story told by the live model. Placeholder until built."""


def tour() -> None:
    """Tell the kitchen story with a freshly trained Ming."""
