"""examples/get_token.py, run as a user would: without snapb2b on the path."""

import datetime
import json
import os
import re
import subprocess
import sys
import time

from conftest import REPO

EXAMPLE = REPO / "examples" / "get_token.py"


def run(*args, config_env=None):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SNAPB2B_CONFIG")}
    if config_env:
        env["SNAPB2B_CONFIG"] = str(config_env)
    return subprocess.run(
        [sys.executable, str(EXAMPLE)] + [str(a) for a in args],
        env=env, capture_output=True, text=True, timeout=30, cwd="/",
    )


def test_prints_a_masked_token(sandbox):
    result = run(sandbox.dir / "config-doku.json")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "provider:   doku" in out
    match = re.search(r"token:      (\S{6})\.\.\.(\S{4}) \((\w+)\)", out)
    assert match, out
    assert match.group(3).lower() == "bearer"
    when = re.search(r"expires at: (\S+) \(in (\d+) s\)", out)
    assert when, out
    expires = datetime.datetime.fromisoformat(when.group(1)).timestamp()
    assert abs(expires - (time.time() + 900)) < 10
    assert 890 <= int(when.group(2)) <= 900
    assert "cached:     no" in out


def test_config_from_environment(sandbox):
    result = run(config_env=sandbox.dir / "config-klikoo.json")
    assert result.returncode == 0, result.stderr
    assert "provider:   klikoo" in result.stdout


def test_cache_file_shares_the_token_between_runs(sandbox, tmp_path):
    config = json.loads((sandbox.dir / "config-snap.json").read_text())
    config["cache_file"] = str(tmp_path / "token.json")
    config["max_retries"] = 1
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    first, second = run(path), run(path)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "cached:     no" in first.stdout and "cached:     yes" in second.stdout
    masked = [re.search(r"token:      (\S+)", r.stdout).group(1) for r in (first, second)]
    assert masked[0] == masked[1]


def test_failure_prints_name_and_exits_with_status(sandbox, tmp_path):
    config = json.loads((sandbox.dir / "config-snap.json").read_text())
    config["client_id"] = "FAULT-500"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = run(path)
    assert result.returncode == 6
    assert result.stderr.startswith("error: PROVIDER: ")
    assert result.stdout == ""


def test_usage_without_config():
    result = run()
    assert result.returncode == 2 and "usage" in result.stderr
