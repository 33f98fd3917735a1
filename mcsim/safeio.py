"""Reading inputs and writing outputs so that bad files and bad disks give one line, not damage.

Every file mcsim reads goes through :func:`read_bytes` / :func:`read_text` (or, for files a
library opens itself, :func:`check_input`): only a regular file is read (a FIFO would block
forever, ``/dev/zero`` would fill the memory), and only up to a size limit, checked before
reading. Structured text goes through :func:`parse_yaml` / :func:`parse_json`, which refuse data
nested deeper than :data:`MAX_DEPTH` or larger than :data:`MAX_NODES` values once YAML aliases
are expanded (a few lines of anchors can stand for billions of values).

Every file mcsim writes goes through :func:`write_files`: each file is written whole under a
temporary name in its own folder, flushed to disk (``fsync``) and renamed over the target
(``os.replace`` is atomic), so a full disk, a read-only folder or a kill leaves the old file as
it was. An existing output is refused unless ``force`` (the ``--force`` option), before any work
is done (:func:`check_outputs`). Every failure is an :class:`~mcsim.errors.InputError` naming
the file, so the command line prints one ``error:`` line.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import yaml

from mcsim.errors import InputError, echo

#: Largest text input (scenario, sweep, exercise, census, facilities) read, in bytes. The
#: largest shipped scenario is well under 1 MB; a 50 MB YAML file takes minutes to parse.
MAX_TEXT_BYTES = 20 * 1024 * 1024
#: Largest binary input (GraphML road networks, Parquet tables), in bytes.
MAX_BINARY_BYTES = 500 * 1024 * 1024
#: Deepest nesting of lists and mappings accepted in YAML/JSON data (a scenario needs < 10).
MAX_DEPTH = 64
#: Most values (aliases expanded) accepted in one YAML/JSON document.
MAX_NODES = 2_000_000


def os_reason(exc: OSError) -> str:
    """A short reason for an OS error, in words (``ELOOP`` is not a word)."""
    reasons = {
        errno.ELOOP: "too many levels of symbolic links (a symlink loop?)",
        errno.ENAMETOOLONG: "file name too long",
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.ENOTDIR: "a part of the path is not a folder",
        errno.EISDIR: "is a folder",
        errno.ENOENT: "no such file or folder",
    }
    return reasons.get(exc.errno or -1, exc.strerror or type(exc).__name__)


# --------------------------------------------------------------------------------------------
# Reading


def check_input(path: str | Path, *, what: str = "file", max_bytes: int = MAX_TEXT_BYTES) -> Path:
    """Refuse a path that is not a regular, readable file of at most ``max_bytes``.

    For files that a library opens itself (Parquet, GraphML); :func:`read_bytes` does the same
    checks on the open file.

    Raises:
        InputError: missing, a folder, a FIFO or device, too large, or unreadable.
    """
    file = str(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise InputError("no such file", file=file) from None
        raise InputError(f"cannot read: {os_reason(exc)}", file=file) from None
    _check_stat(st, file, what, max_bytes)
    return Path(path)


def _check_stat(st: os.stat_result, file: str, what: str, max_bytes: int) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"is a folder, not a {what}", file=file)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"not a regular file (a pipe or a device?); give a {what}", file=file)
    if st.st_size > max_bytes:
        raise InputError(
            f"too large: {st.st_size:,} bytes; at most {max_bytes:,} bytes for a {what}",
            file=file,
        )


def read_bytes(path: str | Path, *, what: str = "file", max_bytes: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see :func:`check_input`).

    The file is opened without blocking and checked on the open descriptor (``fstat``), so a
    FIFO swapped in after a check cannot hang the read, and at most ``max_bytes + 1`` bytes are
    read, so a file that grows while read cannot fill the memory.
    """
    file = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise InputError("no such file", file=file) from None
        if exc.errno == errno.EISDIR:
            raise InputError(f"is a folder, not a {what}", file=file) from None
        raise InputError(f"cannot read: {os_reason(exc)}", file=file) from None
    try:
        _check_stat(os.fstat(fd), file, what, max_bytes)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise InputError(f"too large: more than {max_bytes:,} bytes", file=file)
    except OSError as exc:
        raise InputError(f"cannot read: {os_reason(exc)}", file=file) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_text(
    path: str | Path,
    *,
    what: str = "file",
    max_bytes: int = MAX_TEXT_BYTES,
    encoding: str = "utf-8",
) -> str:
    """The text of a regular UTF-8 file of at most ``max_bytes`` (see :func:`read_bytes`)."""
    data = read_bytes(path, what=what, max_bytes=max_bytes)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"not a UTF-8 text file (byte {exc.start})", file=str(path)) from None


def check_shape(
    data: Any, *, file: str | None = None, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES
) -> Any:
    """Refuse data nested deeper than ``max_depth`` or holding more than ``max_nodes`` values.

    Walks without recursion and counts every visit (a YAML alias is counted each time it is
    used, which is what copying or validating it would cost), stopping at the first excess.
    """
    stack: list[tuple[Any, int]] = [(data, 0)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise InputError(
                f"too many values: more than {max_nodes:,} (YAML aliases count each time used)",
                file=file,
            )
        if isinstance(node, dict):
            if depth >= max_depth:
                raise InputError(f"nested deeper than {max_depth} levels", file=file)
            stack.extend((k, depth + 1) for k in node)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list | tuple):
            if depth >= max_depth:
                raise InputError(f"nested deeper than {max_depth} levels", file=file)
            stack.extend((v, depth + 1) for v in node)
    return data


_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str, *, file: str | None = None) -> Any:
    """YAML text as data (``safe_load``), its shape checked; every problem an InputError.

    Parsed by libyaml where PyYAML has it (the same safe constructors, five to ten times
    faster, and a nesting limit of its own), else by PyYAML's pure-Python ``SafeLoader``.
    """
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        if "maximum nesting depth" in problem:  # libyaml's own limit (1000)
            line = f" (line {mark.line + 1})" if mark else ""
            raise InputError(f"nested deeper than {MAX_DEPTH} levels{line}", file=file) from None
        raise InputError(f"{where}YAML syntax error: {problem}", file=file) from None
    except RecursionError:
        raise InputError(f"nested deeper than {MAX_DEPTH} levels", file=file) from None
    except (ValueError, OverflowError, TypeError, AttributeError, IndexError, KeyError) as exc:
        # a tagged value PyYAML's constructors choke on (!!timestamp 99999-01-01, month 13)
        raise InputError(f"not valid YAML: {echo(str(exc))}", file=file) from None
    return check_shape(data, file=file)


def parse_json(text: str, *, file: str | None = None) -> Any:
    """JSON text as data, its shape checked; every problem an InputError."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"line {exc.lineno}: not valid JSON: {exc.msg}", file=file) from None
    except RecursionError:
        raise InputError(f"nested deeper than {MAX_DEPTH} levels", file=file) from None
    except ValueError as exc:  # e.g. an integer with too many digits
        raise InputError(f"not valid JSON: {echo(str(exc))}", file=file) from None
    return check_shape(data, file=file)


def upload_text(name: str, data: bytes, *, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The text of an uploaded file (the app's file fields), bounded like a file read."""
    if len(data) > max_bytes:
        raise InputError(f"too large: {len(data):,} bytes; at most {max_bytes:,}", file=name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not a UTF-8 text file (byte {exc.start})", file=name) from None


def read_yaml(path: str | Path, *, what: str = "YAML file") -> Any:
    """A YAML file as data (see :func:`read_text` and :func:`parse_yaml`)."""
    return parse_yaml(read_text(path, what=what), file=str(path))


def read_json(path: str | Path, *, what: str = "JSON file") -> Any:
    """A JSON file as data (see :func:`read_text` and :func:`parse_json`)."""
    return parse_json(read_text(path, what=what), file=str(path))


def read_events(path: str | Path, *, option: str | None = None) -> Any:
    """A Parquet table (an event log) as a DataFrame; an odd or damaged file is an InputError."""
    import pandas as pd
    import pyarrow as pa

    try:
        check_input(path, what="Parquet file", max_bytes=MAX_BINARY_BYTES)
    except InputError as exc:
        raise InputError(exc.message, file=exc.file, path=option) from None
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(
            f"not a readable Parquet file ({echo(str(exc), 120)})", file=str(path), path=option
        ) from None


# --------------------------------------------------------------------------------------------
# Writing

#: What a writer gets: an open binary file to write the whole content into.
Writer = Callable[[IO[bytes]], Any]


def _writer(content: bytes | str | Writer) -> Writer:
    if isinstance(content, str):
        data = content.encode("utf-8")
        return lambda fh: fh.write(data)
    if isinstance(content, bytes):
        return lambda fh: fh.write(content)
    return content


def check_outputs(paths: Iterable[str | Path], *, force: bool, option: str = "--out") -> None:
    """Refuse output paths that cannot be written, before any work is done.

    An existing file is refused unless ``force``; a folder where a file is meant, a name longer
    than the file system allows, or a parent that is a file are refused always.

    Raises:
        InputError: naming the path and ``option``.
    """
    for p in map(Path, paths):
        file = str(p)
        _check_name(p, option)
        try:
            st = os.stat(p)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise InputError(f"cannot write: {os_reason(exc)}", file=file, path=option) from None
        if stat.S_ISDIR(st.st_mode):
            raise InputError("is a folder; give a file name", file=file, path=option)
        if not force:
            raise InputError(
                "exists; pass --force to overwrite it (the old file is kept otherwise)",
                file=file,
                path=option,
            )


def _check_name(p: Path, option: str) -> None:
    """Refuse a path with a part longer than its file system allows (before ENAMETOOLONG)."""
    try:
        name_max = os.pathconf(_existing_ancestor(p), "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    for part in p.parts:
        if len(os.fsencode(part)) > name_max:
            raise InputError(
                f"file name too long ({len(os.fsencode(part))} bytes; at most {name_max})",
                file=str(p),
                path=option,
            )


def check_output_folder(folder: str | Path, *, option: str = "--out") -> Path:
    """Refuse an output folder whose name is too long or that exists and is not a folder."""
    p = Path(folder)
    _check_name(p, option)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        return p
    except OSError as exc:
        raise InputError(f"cannot write: {os_reason(exc)}", file=str(p), path=option) from None
    if not stat.S_ISDIR(st.st_mode):
        raise InputError("exists and is not a folder", file=str(p), path=option)
    return p


def _existing_ancestor(p: Path) -> Path:
    q = p.parent if str(p.parent) else Path(".")
    while q != q.parent:
        try:
            os.stat(q)  # not Path.exists(): it raises on a name too long
            return q
        except OSError:
            q = q.parent
    return q


def write_files(
    contents: Mapping[str | Path, bytes | str | Writer], *, force: bool, option: str = "--out"
) -> list[Path]:
    """Write several files all or nothing: each to a temporary file first, then renamed.

    Every file is written whole (and flushed to disk) before the first is renamed, so a full
    disk, a read-only folder or a failing writer leaves every old file as it was; only a rename
    itself failing (in the same folder, hardly ever) could leave some files new and some old.

    Args:
        contents: target path → its content (bytes, text, or a function writing to a binary
            file handle, e.g. ``lambda fh: df.to_parquet(fh)``).
        force: overwrite existing files (else they are refused, see :func:`check_outputs`).
        option: the command-line option the paths came from, for messages.

    Returns:
        The paths written.

    Raises:
        InputError: a path that cannot be written (the old files are then all unchanged, and
            the message says so).
    """
    targets = [Path(p) for p in contents]
    check_outputs(targets, force=force, option=option)
    temps: list[tuple[Path, Path]] = []
    try:
        for target, content in zip(targets, contents.values(), strict=True):
            temps.append((_write_temp(target, _writer(content), option), target))
        for tmp, target in temps:
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise _write_error(target, exc, option) from None
            _fsync_dir(target.parent)
    finally:
        for tmp, _ in temps:
            if tmp.exists():
                tmp.unlink(missing_ok=True)
    return targets


def write_file(
    path: str | Path, content: bytes | str | Writer, *, force: bool, option: str = "--out"
) -> Path:
    """Write one file atomically (see :func:`write_files`)."""
    return write_files({path: content}, force=force, option=option)[0]


def _write_error(target: Path, exc: OSError, option: str) -> InputError:
    kept = "the existing file is unchanged" if target.exists() else "nothing was written"
    return InputError(f"cannot write: {os_reason(exc)}; {kept}", file=str(target), path=option)


def _write_temp(target: Path, write: Writer, option: str) -> Path:
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(
            f"cannot write: {folder} is not a folder", file=str(target), path=option
        ) from None
    except OSError as exc:
        raise _write_error(target, exc, option) from None
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".mcsim-", suffix=".tmp")
    except OSError as exc:
        raise _write_error(target, exc, option) from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(target))
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _write_error(target, exc, option) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _mode_for(target: Path) -> int:
    """The old file's permissions, else what ``open()`` would give a new file."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~_UMASK


def _read_umask() -> int:
    # Read once, at import: os.umask() sets while it reads, which another thread could see.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _fsync_dir(folder: Path) -> None:
    # The rename itself is durable only once the folder is flushed; not every file system
    # lets a folder be opened for that, and the data is safe either way, so failures pass.
    try:
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
