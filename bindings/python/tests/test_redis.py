"""Redis through the C ABI: the token shared by processes of several
simulated hosts (`cache_url`), a Redis that is down never stopping a token,
fleet-wide invalidation, and the merchant's replay memory shared by
processes (`replay_url`), refused with 503 or accepted when Redis is down.
A real redis-server is started on a free loopback port for this module."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time

import pytest

import snapb2b
from conftest import BINDINGS
from test_client import requests_from
from test_reverse_flow import WORKER
from test_server import BODY, NOTIFY_PATH, PARTNER, issue, notification, public_pem


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(7) == b"+PONG\r\n"
    except OSError:
        return False


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (scripts/install-test-deps.sh installs it)")
        pytest.skip("redis-server is not installed (scripts/install-test-deps.sh installs it)")
    port = free_port()
    directory = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not ping(port):
            assert proc.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not answer PING"
            time.sleep(0.02)
        yield "redis://127.0.0.1:{}".format(port)
    finally:
        proc.kill()
        proc.wait()


HOST_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import snapb2b
client = snapb2b.Client(json.loads(sys.argv[2]))
print("ready", flush=True)
sys.stdin.readline()  # the parent releases all children at once
token = client.token()
print(json.dumps({"token": token.access_token, "cached": token.cached, "cache": token.cache}), flush=True)
"""


def run_hosts(config, tmp_path, hosts, per_host):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    children = []
    for h in range(hosts):
        directory = tmp_path / "host{}".format(h)
        directory.mkdir()
        cfg = dict(config, cache_file=str(directory / "token.json"))
        for _ in range(per_host):
            children.append(subprocess.Popen(
                [sys.executable, "-c", HOST_CHILD, str(BINDINGS), json.dumps(cfg)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    try:
        for child in children:
            assert child.stdout.readline() == "ready\n", child.stderr.read()
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for child in children:
            out, err = child.communicate(timeout=60)
            assert child.returncode == 0, err
            results.append(json.loads(out))
        return results
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


def test_processes_of_four_hosts_share_one_token_through_redis(sandbox, redis_url, tmp_path):
    config = sandbox.config("snap", cache_url=redis_url, cache_key_prefix="py-{}:".format(secrets.token_hex(4)))
    with requests_from(sandbox, config["client_id"]) as seen:
        results = run_hosts(config, tmp_path, hosts=4, per_host=3)
    assert seen["n"] == 1, results
    assert len({r["token"] for r in results}) == 1
    assert sorted(r["cached"] for r in results) == [False] + [True] * 11
    assert all(r["cache"] == "on" for r in results), results


def test_a_redis_that_is_down_never_stops_a_token(sandbox):
    url = "redis://:pw-{}@127.0.0.1:{}".format(secrets.token_hex(8), free_port())
    with snapb2b.Client(sandbox.config("snap", cache_url=url, timeout_ms=3000)) as client:
        started = time.monotonic()
        token = client.token()
        assert time.monotonic() - started < 3
    assert token.cached is False
    assert token.cache.startswith("unavailable: redis at redis://127.0.0.1:"), token.cache
    assert "pw-" not in token.cache


def test_invalidate_is_fleet_wide(sandbox, redis_url):
    config = sandbox.config("snap", cache_url=redis_url, cache_key_prefix="py-inv-{}:".format(secrets.token_hex(4)))

    def host(n):
        # One process shares a client per config text: a config that differs
        # only in timeout_ms stands for another host's own client.
        return snapb2b.Client(dict(config, timeout_ms=5000 + n))

    with host(1) as a, host(2) as b:
        first = a.token()
        assert b.token().access_token == first.access_token and b.token().cached
        a.invalidate()
        with host(3) as c, requests_from(sandbox, config["client_id"]) as seen:
            renewed = c.token()
        assert seen["n"] == 1 and renewed.access_token != first.access_token
        # b drops the old token: the newer one in Redis stays.
        b.invalidate()
        with host(4) as d, requests_from(sandbox, config["client_id"]) as seen:
            assert d.token().access_token == renewed.access_token
        assert seen["n"] == 0


def test_config_mistakes_name_the_key(sandbox):
    for extra, says in [
        ({"cache_url": "http://127.0.0.1:6379"}, "cache_url"),
        ({"cache_key_prefix": "x:"}, "cache_url"),
        ({"cache_url": "redis://:SECRETPW@127.0.0.1:1/db"}, "cache_url"),
    ]:
        with pytest.raises(snapb2b.InvalidArgumentError) as info:
            snapb2b.Client(sandbox.config("snap", **extra))
        assert says in info.value.message and "SECRETPW" not in info.value.message


def server_config(key, **extra):
    config = {"partners": [{"client_id": PARTNER, "public_key": public_pem(key)}],
              "token_secret": "merchant-token-secret-0123456789abcdef"}
    config.update(extra)
    return config


def test_eight_processes_sharing_a_replay_url_accept_a_notification_once(rsa_keys, redis_url, tmp_path):
    key = rsa_keys[0]
    config = server_config(key, replay_url=redis_url, replay_key_prefix="py-{}:".format(secrets.token_hex(4)))
    with snapb2b.Server(config) as s:
        token = issue(s, key)
    job = tmp_path / "job.json"
    job.write_text(json.dumps({
        "config": config, "path": NOTIFY_PATH, "body": BODY,
        "headers": notification(key, token, BODY, "EXT-REDIS"), "start_at": time.time() + 2,
    }))
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(BINDINGS), str(job)], stdout=subprocess.PIPE,
                              text=True) for _ in range(8)]
    verdicts = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert sum(v["accepted"] for v in verdicts) == 1, verdicts
    assert all(v["accepted"] or v["status"] == 409 for v in verdicts), verdicts


def test_replay_url_down_refuses_with_503_unless_told_to_accept(rsa_keys):
    key = rsa_keys[0]
    dead = "redis://127.0.0.1:{}".format(free_port())
    with snapb2b.Server(server_config(key, replay_url=dead)) as strict:
        token = issue(strict, key)
        v = strict.check("POST", NOTIFY_PATH, notification(key, token, BODY, "EXT-DOWN"), BODY)
        assert not v.accepted and v.http_status == 503
        assert json.loads(v.body)["responseCode"] == "5030000"
        assert v.reason.startswith("replay_url redis at redis://127.0.0.1:"), v.reason
    with snapb2b.Server(server_config(key, replay_url=dead, replay_on_store_failure="accept")) as lenient:
        token = issue(lenient, key)
        v = lenient.check("POST", NOTIFY_PATH, notification(key, token, BODY, "EXT-DOWN"), BODY)
        assert v.accepted and "remembered in this process only" in v.reason, v.reason


def _child_renews_through_redis(client):
    shared = client.token()  # the binding gives the child a handle of its own
    assert shared.cached is True
    client.invalidate()  # also from Redis, over a connection of the child's own
    renewed = client.token()
    assert renewed.cached is False and renewed.cache == "on", renewed.cache


def test_a_forked_child_uses_redis_over_its_own_connection(sandbox, redis_url):
    import multiprocessing

    config = sandbox.config("snap", cache_url=redis_url, cache_key_prefix="py-fork-{}:".format(secrets.token_hex(4)))
    with snapb2b.Client(config) as client:
        first = client.token()
        child = multiprocessing.get_context("fork").Process(target=_child_renews_through_redis, args=(client,))
        child.start()
        child.join(30)
        assert child.exitcode == 0
        # The parent's connection still works: it reads the child's token.
        client.invalidate()  # the child's token is in Redis: only the parent's memory drops
        with snapb2b.Client(config) as other:
            shared = other.token()
        assert shared.cached is True and shared.access_token != first.access_token
        again = client.token()
        assert again.cache == "on" and again.access_token == shared.access_token
