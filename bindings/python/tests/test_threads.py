import base64
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

import snapb2b
from conftest import PROVIDERS

THREADS = 8


def run_together(fn):
    """Runs fn(i) for i in range(THREADS), all released at once."""
    barrier = threading.Barrier(THREADS)

    def task(i):
        barrier.wait(timeout=10)
        return fn(i)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(task, range(THREADS)))


def test_concurrent_sign(rsa_keys, pem):
    keys = [(key, pem(key, "pkcs8" if i % 2 else "pkcs1")) for i, key in enumerate(rsa_keys)]

    def work(i):
        key, text = keys[i % len(keys)]
        results = []
        for n in range(20):
            client_id, timestamp = "client-{}-{}".format(i, n), "2024-01-01T00:00:{:02d}+07:00".format(n)
            results.append((key, client_id, timestamp, snapb2b.sign(text, client_id, timestamp)))
        return results

    for results in run_together(work):
        for key, client_id, timestamp, signature in results:
            key.public_key().verify(
                base64.b64decode(signature),
                "{}|{}".format(client_id, timestamp).encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )


def test_concurrent_get_token(sandbox):
    def work(i):
        provider = PROVIDERS[i % len(PROVIDERS)]
        return provider, [snapb2b.get_token(sandbox.config(provider)) for _ in range(3)]

    before = int(time.time())
    for provider, tokens in run_together(work):
        for token in tokens:
            assert token.provider == provider and token.access_token
            assert token.expires_at >= before + token.expires_in - 1


def test_concurrent_errors_are_per_thread(sandbox):
    # Even threads fail with a message naming their own unknown config key,
    # odd threads fail at the provider or succeed: each sees its own outcome.
    def work(i):
        outcomes = []
        for n in range(5):
            try:
                if i % 2 == 0:
                    snapb2b.get_token(sandbox.config("snap", **{"bogus_{}_{}".format(i, n): 1}))
                elif n % 2:
                    snapb2b.get_token(sandbox.config("doku", client_id="FAULT-500"))
                else:
                    snapb2b.get_token(sandbox.config("doku"))
                    outcomes.append(("ok", n))
            except snapb2b.SnapError as e:
                outcomes.append((e, n))
        return i, outcomes

    for i, outcomes in run_together(work):
        assert len(outcomes) == 5
        for outcome, n in outcomes:
            if i % 2 == 0:
                assert isinstance(outcome, snapb2b.InvalidArgumentError)
                assert "bogus_{}_{}".format(i, n) in outcome.message
            elif n % 2:
                assert isinstance(outcome, snapb2b.ProviderError) and outcome.http_status == 500
            else:
                assert outcome == "ok"


def test_calls_release_the_gil(sandbox):
    # A request stuck on FAULT-SLOW must not block other threads.
    def slow():
        try:
            snapb2b.get_token(sandbox.config("snap", client_id="FAULT-SLOW", timeout_ms=1500))
        except snapb2b.RequestTimeoutError:
            pass

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert snapb2b.get_token(sandbox.config("snap")).access_token
    assert time.monotonic() - started < 1.0
    assert thread.is_alive()
    thread.join()
