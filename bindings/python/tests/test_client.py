"""snapb2b.Client: caching, single flight across threads and processes,
close semantics, errors. Request counts come from the sandbox's own
/sandbox/stats, measured as deltas of one client id's counter."""

import gc
import json
import os
import ssl
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

import snapb2b
from snapb2b import _native
from conftest import BINDINGS

THREADS = 8
PROCESSES = 6
SANDBOX_CLIENT = "SANDBOX-CLIENT"

# Deltas are only meaningful when no other test of this process talks to the
# sandbox meanwhile; pytest runs tests one at a time, and this lock keeps the
# measurements serial should that ever change.
_stats_lock = threading.Lock()


def stats(sandbox):
    context = ssl.create_default_context(cafile=str(sandbox.dir / "ca.pem"))
    url = sandbox.info["base_url"] + "/sandbox/stats"
    with urllib.request.urlopen(url, context=context, timeout=10) as response:
        return json.load(response)


@contextmanager
def requests_from(sandbox, client_id):
    """Yields a dict whose "n" is, after the block, how many token requests
    naming client_id reached the sandbox during the block."""
    result = {}
    with _stats_lock:
        before = stats(sandbox)["by_client"].get(client_id, 0)
        yield result
        result["n"] = stats(sandbox)["by_client"].get(client_id, 0) - before


def test_stats_endpoint_counts_token_requests(sandbox):
    # The measuring device itself must be able to see a request.
    with requests_from(sandbox, SANDBOX_CLIENT) as seen:
        snapb2b.get_token(sandbox.config("snap"))
    assert seen["n"] == 1


def test_second_token_is_cached_and_invalidate_renews(sandbox):
    with requests_from(sandbox, SANDBOX_CLIENT) as seen:
        client = snapb2b.Client(sandbox.config("snap"))
        first = client.token()
        second = client.token()
        third = client.token()
    assert seen["n"] == 1
    assert first.cached is False
    assert second.cached is True and third.cached is True
    assert second.access_token == first.access_token == third.access_token
    assert second.expires_at == first.expires_at
    assert first.expires_in == 900 and first.provider == "snap"
    assert first.authorization == "Bearer " + first.access_token

    with requests_from(sandbox, SANDBOX_CLIENT) as seen:
        client.invalidate()
        renewed = client.token()
        again = client.token()
    assert seen["n"] == 1
    assert renewed.cached is False and renewed.access_token != first.access_token
    assert again.cached is True and again.access_token == renewed.access_token
    client.close()


def test_get_token_results_are_never_cached(sandbox):
    assert snapb2b.get_token(sandbox.config("snap")).cached is False


def test_keywords_override_config(sandbox):
    config = sandbox.config("snap", client_id="NO-SUCH-CLIENT")
    with snapb2b.Client(config, client_id=SANDBOX_CLIENT, refresh_margin_s=30, max_retries=1) as client:
        assert client.token().access_token
    assert config["client_id"] == "NO-SUCH-CLIENT"


def run_together(n, fn):
    barrier = threading.Barrier(n)

    def task(i):
        barrier.wait(timeout=10)
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(task, range(n)))


@pytest.mark.parametrize("round_", range(3))
def test_threads_sharing_a_fresh_client_make_one_request(sandbox, round_):
    client = snapb2b.Client(sandbox.config("snap"))
    # Handles of one config share the process's client: start without a token.
    client.invalidate()
    with requests_from(sandbox, SANDBOX_CLIENT) as seen:
        tokens = run_together(THREADS, lambda i: client.token())
    assert seen["n"] == 1
    assert len({t.access_token for t in tokens}) == 1
    assert sorted(t.cached for t in tokens) == [False] + [True] * (THREADS - 1)
    client.close()


CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import snapb2b
client = snapb2b.Client(json.loads(sys.argv[2]))
print("ready", flush=True)
sys.stdin.readline()  # the parent releases all children at once
token = client.token()
print(json.dumps({"token": token.access_token, "cached": token.cached}), flush=True)
"""


def key_fragments(text):
    body = "".join(line for line in text.splitlines() if line and not line.startswith("-----"))
    return [body[i:i + 16] for i in range(0, len(body) - 16, 16)]


@pytest.mark.parametrize("provider", ["snap", "klikoo"])
def test_cache_file_shared_by_processes_started_at_once(sandbox, tmp_path, provider):
    cache = tmp_path / "cache" / "token.json"
    cache.parent.mkdir()
    config = sandbox.config(provider, cache_file=str(cache))
    client_id = config["client_id"]
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    with requests_from(sandbox, client_id) as seen:
        children = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, str(BINDINGS), json.dumps(config)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            )
            for _ in range(PROCESSES)
        ]
        try:
            for child in children:
                line = child.stdout.readline()
                assert line == "ready\n", child.stderr.read()
            for child in children:
                child.stdin.write("go\n")
                child.stdin.flush()
            results = []
            for child in children:
                out, err = child.communicate(timeout=30)
                assert child.returncode == 0, err
                results.append(json.loads(out))
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.wait()
    assert seen["n"] == 1, results
    assert len({r["token"] for r in results}) == 1
    assert sorted(r["cached"] for r in results) == [False] + [True] * (PROCESSES - 1)

    # The cache file: private, holding the token but no key or secret, and
    # no temporary files left behind.
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    content = cache.read_text()
    assert results[0]["token"] in content
    key_text = Path(config["private_key_file"]).read_text()
    fragments = key_fragments(key_text)
    assert fragments
    for fragment in fragments:
        assert fragment not in content
    assert sandbox.info["klikoo_client_secret"] not in content
    if provider == "klikoo":
        assert config["client_secret"] == sandbox.info["klikoo_client_secret"]
    assert sorted(p.name for p in cache.parent.iterdir()) == ["token.json", "token.json.lock"]

    # A new client in this process reads the file instead of asking.
    with requests_from(sandbox, client_id) as seen:
        with snapb2b.Client(config) as client:
            token = client.token()
    assert seen["n"] == 0
    assert token.cached is True and token.access_token == results[0]["token"]


def test_invalidate_removes_the_cache_file_entry(sandbox, tmp_path):
    cache = tmp_path / "token.json"
    config = sandbox.config("snap", cache_file=str(cache))
    with snapb2b.Client(config) as a, snapb2b.Client(config) as b:
        first = a.token()
        assert b.token().access_token == first.access_token
        a.invalidate()
        assert not cache.exists()
        with requests_from(sandbox, SANDBOX_CLIENT) as seen:
            renewed = a.token()
        assert seen["n"] == 1
        assert renewed.access_token != first.access_token and renewed.cached is False
        # b still holds the old token in memory; another fresh client sees the new one
        with snapb2b.Client(config) as c:
            assert c.token().access_token == renewed.access_token


def test_close_then_calls_raise(sandbox):
    client = snapb2b.Client(sandbox.config("snap"))
    assert client.token().access_token
    assert not client.closed
    client.close()
    assert client.closed
    client.close()  # idempotent
    for call in (client.token, client.invalidate):
        with pytest.raises(snapb2b.ClientClosedError) as info:
            call()
        assert isinstance(info.value, snapb2b.InvalidArgumentError)
        assert info.value.status == 1 and "closed" in info.value.message
    with pytest.raises(snapb2b.ClientClosedError):
        with client:
            pass
    assert "closed" in repr(client)


def test_with_statement_closes(sandbox):
    with snapb2b.Client(sandbox.config("snap")) as client:
        assert isinstance(client, snapb2b.Client)
        assert client.token().access_token
        assert not client.closed
    assert client.closed
    with pytest.raises(snapb2b.ClientClosedError):
        client.token()

    with pytest.raises(RuntimeError):
        with snapb2b.Client(sandbox.config("snap")) as client:
            raise RuntimeError("boom")
    assert client.closed


@pytest.fixture
def frees(monkeypatch):
    """Records every handle given to b2b_client_free (and frees it)."""
    freed = []
    real = _native.lib.b2b_client_free

    def spy(handle):
        freed.append(handle)
        real(handle)

    monkeypatch.setattr(_native.lib, "b2b_client_free", spy)
    return freed


def test_handle_freed_exactly_once(sandbox, frees):
    client = snapb2b.Client(sandbox.config("snap"))
    handle = client._handle
    assert handle
    client.close()
    client.close()
    del client
    gc.collect()
    assert frees == [handle]


def test_garbage_collection_frees_the_handle(sandbox, frees):
    client = snapb2b.Client(sandbox.config("snap"))
    handle = client._handle
    client.token()
    del client
    gc.collect()
    assert frees == [handle]


def test_failed_construction_frees_nothing(frees):
    with pytest.raises(snapb2b.InvalidArgumentError):
        snapb2b.Client(provider="snap")
    gc.collect()
    assert frees == []


def test_close_while_threads_use_the_client(sandbox, frees):
    # Every call either completes on a live handle or raises
    # ClientClosedError; the handle is freed once, after the last call.
    client = snapb2b.Client(sandbox.config("snap"))
    handle = client._handle
    first = client.token().access_token
    started = threading.Barrier(THREADS + 1)
    outcomes = [[] for _ in range(THREADS)]

    def work(i):
        started.wait(timeout=10)
        while True:
            try:
                outcomes[i].append(client.token().access_token)
            except snapb2b.ClientClosedError:
                return

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    started.wait(timeout=10)
    time.sleep(0.05)
    client.close()
    for t in threads:
        t.join(timeout=10)
        assert not t.is_alive()
    assert frees == [handle]
    # (under load a thread may not get a call in before close())
    assert {t for o in outcomes for t in o} == {first}
    assert sum(len(o) for o in outcomes) > 0


FORK_CHILD = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
import snapb2b
client = snapb2b.Client(json.loads(sys.argv[2]))
parent = client.token()
pid = os.fork()
if pid == 0:
    token = client.token()  # the cached token, on a connection of its own
    print(json.dumps({"who": "child", "cached": token.cached, "same": token.access_token == parent.access_token}), flush=True)
    client.close()
    os._exit(0)
os.waitpid(pid, 0)
client.invalidate()
token = client.token()  # the parent's handle and connection still work
print(json.dumps({"who": "parent", "cached": token.cached, "same": token.access_token == parent.access_token}), flush=True)
"""


def test_forked_child_keeps_the_token_and_the_parent_its_connection(sandbox):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, "-c", FORK_CHILD, str(BINDINGS), json.dumps(sandbox.config("snap"))],
        capture_output=True, text=True, timeout=30, env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {"who": "child", "cached": True, "same": True},
        {"who": "parent", "cached": False, "same": False},
    ]


# --- errors -----------------------------------------------------------------


def test_config_errors_raise_at_construction(sandbox):
    for overrides, word in (
        ({"refresh_margin_s": "60"}, "refresh_margin_s"),
        ({"max_retries": -1}, "max_retries"),
        ({"bogus": 1}, "bogus"),
        ({"client_id": None}, "client_id"),
    ):
        with pytest.raises(snapb2b.InvalidArgumentError) as info:
            snapb2b.Client(sandbox.config("snap", **overrides))
        assert word in info.value.message
    with pytest.raises(snapb2b.InvalidArgumentError):
        snapb2b.Client()
    with pytest.raises(TypeError):
        snapb2b.Client("{}")
    with pytest.raises(snapb2b.KeyFormatError):
        snapb2b.Client(sandbox.config("snap", private_key_file="/nonexistent/key.pem"))


def test_client_only_keys_are_refused_by_get_token(sandbox, tmp_path):
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        snapb2b.get_token(sandbox.config("snap", cache_file=str(tmp_path / "t.json")))
    assert "cache_file" in info.value.message


def test_provider_error_without_retries(sandbox):
    with requests_from(sandbox, "FAULT-500") as seen:
        with snapb2b.Client(sandbox.config("snap", client_id="FAULT-500", max_retries=0)) as client:
            with pytest.raises(snapb2b.ProviderError) as info:
                client.token()
    assert seen["n"] == 1
    err = info.value
    assert type(err) is snapb2b.ProviderError
    assert err.http_status == 500 and err.response_code == "5007301"


def test_threads_share_one_failed_request(sandbox):
    # Single flight for failures too: the waiters get the fetching thread's
    # error (with its details on their own thread), not a request each.
    client = snapb2b.Client(sandbox.config("snap", client_id="FAULT-500", max_retries=0))

    def call(i):
        try:
            client.token()
        except snapb2b.SnapError as e:
            return e
        return None

    with requests_from(sandbox, "FAULT-500") as seen:
        errors = run_together(THREADS, call)
    client.close()
    assert all(type(e) is snapb2b.ProviderError for e in errors), errors
    assert all(e.http_status == 500 and e.response_code == "5007301" for e in errors)
    # threads arriving after the failure may try again; the point is that
    # waiting threads do not each send their own request
    assert 1 <= seen["n"] < THREADS


def test_server_errors_are_retried_max_retries_times(sandbox):
    with requests_from(sandbox, "FAULT-500") as seen:
        with snapb2b.Client(sandbox.config("snap", client_id="FAULT-500", max_retries=2)) as client:
            with pytest.raises(snapb2b.ProviderError) as info:
                client.token()
    assert seen["n"] == 3
    assert info.value.http_status == 500


def test_client_errors_are_not_retried(sandbox):
    with requests_from(sandbox, "NO-SUCH-CLIENT") as seen:
        with snapb2b.Client(sandbox.config("snap", client_id="NO-SUCH-CLIENT", max_retries=2)) as client:
            with pytest.raises(snapb2b.ProviderError) as info:
                client.token()
    assert info.value.http_status == 401 and info.value.response_code == "4017300"
    assert seen["n"] == 1


def prime_flaky(sandbox):
    """Leaves FAULT-FLAKY's counter so that its next request gets 503."""
    for _ in range(2):
        try:
            snapb2b.get_token(sandbox.config("snap", client_id="FAULT-FLAKY"))
            return
        except snapb2b.ProviderError as e:
            assert e.http_status == 503
    pytest.fail("FAULT-FLAKY failed twice in a row")


def test_flaky_provider(sandbox):
    prime_flaky(sandbox)
    with snapb2b.Client(sandbox.config("snap", client_id="FAULT-FLAKY", max_retries=0)) as client:
        with pytest.raises(snapb2b.ProviderError) as info:
            client.token()
    assert info.value.http_status == 503

    prime_flaky(sandbox)
    with requests_from(sandbox, "FAULT-FLAKY") as seen:
        with snapb2b.Client(sandbox.config("snap", client_id="FAULT-FLAKY", max_retries=2)) as client:
            token = client.token()
    assert seen["n"] == 2  # a 503, then the retry that succeeded
    assert token.access_token and token.cached is False


def test_transport_and_timeout_errors(sandbox):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with snapb2b.Client(sandbox.config("snap", base_url="https://127.0.0.1:{}".format(port), max_retries=0)) as client:
        with pytest.raises(snapb2b.TransportError):
            client.token()
    with snapb2b.Client(sandbox.config("snap", client_id="FAULT-SLOW", timeout_ms=300, max_retries=0)) as client:
        with pytest.raises(snapb2b.RequestTimeoutError):
            client.token()


def test_repr_shows_no_secrets(sandbox):
    config = sandbox.config("klikoo", private_key_file=None)
    config["private_key"] = Path(sandbox.info["private_key_file"]).read_text()
    with snapb2b.Client(config) as client:
        text = repr(client)
        assert "klikoo" in text and config["client_id"] in text
        assert config["client_secret"] not in text
        for fragment in key_fragments(config["private_key"]):
            assert fragment not in text
        token = client.token()
        assert token.access_token not in repr(token) and "cached=False" in repr(token)


# --- one client per config in a process (PHP-FPM, scripts) ----------------


def test_a_client_per_request_reuses_the_token_and_connection(sandbox):
    # What a web worker does: a new client for every request it serves.
    config = sandbox.config("snap", timeout_ms=7001)  # a config of this test's own
    first = snapb2b.Client(config)
    first.invalidate()
    with _stats_lock:
        before = stats(sandbox)
        tokens = []
        for _ in range(200):
            client = snapb2b.Client(config)
            tokens.append(client.token())
            client.close()
        after = stats(sandbox)  # its own connection is counted too
    first.close()
    assert after["by_client"].get(SANDBOX_CLIENT, 0) - before["by_client"].get(SANDBOX_CLIENT, 0) == 1
    assert [t.cached for t in tokens] == [False] + [True] * 199
    assert after["connections"] - before["connections"] - 1 == 1


def test_a_rotated_key_file_is_read_again(sandbox, tmp_path):
    key_file = tmp_path / "key.pem"
    good = Path(sandbox.config("snap")["private_key_file"]).read_bytes()
    key_file.write_bytes(good)
    key_file.chmod(0o600)
    config = sandbox.config("snap", private_key_file=str(key_file), max_retries=0)
    client = snapb2b.Client(config)
    client.invalidate()
    assert client.token().cached is False
    client.close()

    # The portal issued a new key: the file is replaced (here by one the
    # sandbox does not know, so the provider's refusal proves it is used).
    other = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                           capture_output=True, check=True).stdout
    replacement = tmp_path / "key.new"
    replacement.write_bytes(other)
    replacement.chmod(0o600)
    os.replace(replacement, key_file)
    time.sleep(1.1)  # the library looks at the files at most once a second
    client = snapb2b.Client(config)
    client.invalidate()
    with pytest.raises(snapb2b.ProviderError):
        client.token()
    client.close()

    key_file.write_bytes(good)  # rewritten in place
    time.sleep(1.1)
    client = snapb2b.Client(config)
    client.invalidate()
    assert client.token().cached is False
    client.close()
