"""The one exception type for bad input.

Anything a user can get wrong (a malformed scenario, an unknown policy, a missing file, a bad
``--set`` value) raises :class:`InputError`. It carries the file and the field path so that the
command line can print a single ``error: FILE: PATH: MESSAGE`` line and exit with code 2, while
any other exception is a bug (exit code 1, with a traceback).
"""

from __future__ import annotations


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
        return text
