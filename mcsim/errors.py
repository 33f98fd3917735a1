"""The one exception type for bad input.

Anything a user can get wrong (a malformed scenario, an unknown policy, a missing file, a bad
``--set`` value) raises :class:`InputError`. It carries the file and the field path so that the
command line can print a single ``error: FILE: PATH: MESSAGE`` line and exit with code 2, while
any other exception is a bug (exit code 1, with a traceback).
"""

from __future__ import annotations

from typing import Any

#: Longest value echoed back in a message (a 10 MB string should not come back as the error).
ECHO_LIMIT = 80
#: Longest error line printed; the rest is cut (the line must stay one line, and readable).
LINE_LIMIT = 1000


def echo(value: Any, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters (``...`` and the full length).

    A huge nested value is not turned into text whole: its ``repr`` is built only as far as
    needed (``reprlib``), so echoing it costs no memory.
    """
    import reprlib

    r = reprlib.Repr(maxlevel=3, maxdict=6, maxlist=6, maxtuple=6, maxset=6, maxstring=limit)
    r.maxother = limit
    text = r.repr(value)
    if len(text) > limit:
        text = f"{text[: limit - 3]}..."
    return text


def shorten(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` cut to ``limit`` characters (``...`` at the end), for names echoed in paths."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(text: str, limit: int = LINE_LIMIT) -> str:
    """``text`` with line breaks turned into spaces and cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class InputError(Exception):
    """Bad input, reported as one line naming the file and the field path.

    Args:
        message: what is wrong, in words a user can act on.
        file: the file the input came from, if any.
        path: the field path inside the file, e.g. ``hospitals[2].trauma_level``.
        more: how many further problems were found and not shown in this line.
    """

    def __init__(
        self, message: str, *, file: str | None = None, path: str | None = None, more: int = 0
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.path = path
        self.more = more

    def with_file(self, file: str) -> InputError:
        """The same error, attributed to ``file``."""
        return InputError(self.message, file=file, path=self.path, more=self.more)

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.path) if p]
        text = ": ".join([*parts, self.message])
        if self.more:
            text += f" (and {self.more} more problem{'s' if self.more > 1 else ''})"
        return one_line(text)
