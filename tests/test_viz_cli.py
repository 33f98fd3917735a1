"""`mcsim app`: bad host or port is one error line and exit code 2; a good one runs solara."""

from __future__ import annotations

import socket
import sys

import pytest

from mcsim.cli import app_server_argv, main


@pytest.mark.parametrize("port", ["0", "70000", "-5"])
def test_port_out_of_range_is_one_error_line_and_exit_2(port, capsys):
    assert main(["app", "--port", port]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "--port" in err


def test_port_that_is_not_a_number_is_exit_2(capsys):
    assert main(["app", "--port", "eighty"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_port_in_use_is_exit_2(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["app", "--host", "127.0.0.1", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --port: cannot listen on 127.0.0.1:") and err.count("\n") == 1


def test_unknown_host_is_exit_2(capsys):
    assert main(["app", "--host", "no-such-host.invalid", "--port", "8765"]) == 2
    assert capsys.readouterr().err.startswith("error: --host: cannot resolve host")


def test_server_command_serves_viz_app_on_the_given_host_and_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = app_server_argv("127.0.0.1", port)
    assert argv[:5] == [sys.executable, "-m", "solara", "run", "viz.app"]
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert argv[argv.index("--port") + 1] == str(port)
    assert "--production" in argv


def test_the_core_never_imports_viz():
    import subprocess

    code = (
        "import sys, mcsim, mcsim.cli, mcsim.simulate, mcsim.metrics; "
        "mcsim.simulate(None, seed=0); "
        "assert not [m for m in sys.modules if m == 'viz' or m.startswith('viz.')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
