"""``python -m hodiff.cost`` with bad arguments: usage errors with exit status 2 and no traceback, before any work
(issue 12). The cases run in-process through ``main`` (fast); the real entry point runs in subprocesses."""
import os
import subprocess
import sys

import pytest

from hodiff.cost import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BAD = [
    (["--ns", "8"], "at least two different sizes"),
    (["--ns", "8", "8"], "at least two different sizes"),
    (["--ns", "-5", "8"], "invalid size -5"),
    (["--ns", "0", "8"], "invalid size 0"),
    (["--ns", "2.5", "8"], "invalid size '2.5'"),
    (["--ns", "2", "3", "--problems", "mlp"], "for mlp"),
    (["--strategies", "bogus"], "invalid choice: 'bogus'"),
    (["--strategies", "grad", "bogus"], "invalid choice: 'bogus'"),
    (["--problems", "nope"], "invalid choice: 'nope'"),
    (["--repeat", "-3"], "invalid count -3"),
    (["--repeat", "x"], "invalid count 'x'"),
]


def _usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.mark.parametrize("argv,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_arguments_are_usage_errors(argv, message, capsys, tmp_path):
    code, out, err = _usage_error([str(tmp_path / "plots"), *argv], capsys)
    assert code == 2
    assert message in err
    assert err.startswith("usage: python -m hodiff.cost")
    assert "Traceback" not in err
    assert out == ""                          # nothing was run
    assert not (tmp_path / "plots").exists()  # nor created


def test_outdir_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "a_file"
    f.write_text("keep me")
    code, out, err = _usage_error([str(f), "--ns", "4", "8", "--problems", "rosenbrock"], capsys)
    assert code == 2 and "is not a directory" in err and out == ""
    assert f.read_text() == "keep me"
    code, out, err = _usage_error([str(f / "sub"), "--ns", "4", "8", "--problems", "rosenbrock"], capsys)
    assert code == 2 and "cannot create" in err and out == ""


def test_outdir_that_is_a_file_is_fine_without_plots(tmp_path, capsys):
    f = tmp_path / "a_file"
    f.write_text("")
    assert main([str(f), "--ns", "4", "8", "--problems", "rosenbrock", "--strategies", "grad", "--repeat", "0",
                 "--no-plots"]) == 0
    assert "rosenbrock" in capsys.readouterr().out


def _run(*args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "hodiff.cost", *args], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT, check=False)


@pytest.mark.parametrize("args,message", [(("--ns", "8"), "at least two different sizes"),
                                          (("--repeat", "-3"), "invalid count -3")])
def test_entry_point_exits_with_status_2_and_no_traceback(args, message):
    proc = _run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
