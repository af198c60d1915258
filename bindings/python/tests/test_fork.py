"""A client used across fork(): multiprocessing with the "fork" start
method, the child using the parent's Client, then the parent carrying on over
its own kept-alive connection; and a child forked while another thread was
renewing, which must not wait for that renewal (it does not exist there)."""

import json
import multiprocessing
import threading
import time
from ctypes import byref, c_void_p

import pytest

import snapb2b
from snapb2b import _native

fork = multiprocessing.get_context("fork")


def _in_child(target, *args):
    """Runs target(*args) in a forked child; returns its exit code."""
    p = fork.Process(target=target, args=args)
    p.start()
    p.join(30)
    if p.is_alive():
        p.kill()
        p.join()
        return "hung"
    return p.exitcode


def _child_uses_client(client):
    first = client.token()
    client.invalidate()
    renewed = client.token()
    assert renewed.cached is False and renewed.access_token != first.access_token


def test_child_uses_the_parents_client_and_the_parent_carries_on(sandbox):
    client = snapb2b.Client(sandbox.config("snap", max_retries=0))
    parents = client.token()
    assert _in_child(_child_uses_client, client) == 0
    client.invalidate()
    again = client.token()
    assert again.cached is False and again.access_token != parents.access_token
    client.close()


def _raw_token(handle):
    out = c_void_p()
    _native.lib.b2b_client_token(handle, byref(out))
    return json.loads(_native.take_string(out))


def _child_uses_native_handle(handle):
    assert _raw_token(handle)["cached"] is True  # the inherited token
    _native.lib.b2b_client_invalidate(handle)
    assert _raw_token(handle)["cached"] is False  # on a connection of its own


def test_native_handle_in_a_child_keeps_the_token_and_renews(sandbox):
    # The C handle itself (the binding rebuilds its handle in a child; other
    # callers, e.g. a C extension, do not).
    config = json.dumps(sandbox.config("snap", max_retries=0)).encode()
    handle = c_void_p()
    _native.lib.b2b_client_new(config, byref(handle))
    try:
        _native.lib.b2b_client_invalidate(handle.value)  # handles share a config's token
        assert _raw_token(handle.value)["cached"] is False
        assert _in_child(_child_uses_native_handle, handle.value) == 0
        _native.lib.b2b_client_invalidate(handle.value)
        assert _raw_token(handle.value)["cached"] is False
    finally:
        _native.lib.b2b_client_free(handle.value)


def _child_token_is_bounded(handle):
    started = time.monotonic()
    with pytest.raises(snapb2b.SnapError):
        _raw_token(handle)  # FAULT-SLOW: a timeout of its own, no hang
    assert time.monotonic() - started < 2.5


def test_child_forked_during_a_renewal_does_not_hang(sandbox):
    config = sandbox.config("snap", client_id="FAULT-SLOW", timeout_ms=1500, max_retries=0)
    handle = c_void_p()
    _native.lib.b2b_client_new(json.dumps(config).encode(), byref(handle))
    renewing = threading.Thread(target=lambda: pytest.raises(snapb2b.SnapError, _raw_token, handle.value))
    renewing.start()
    time.sleep(0.4)  # the thread now waits for the slow answer
    try:
        assert _in_child(_child_token_is_bounded, handle.value) == 0
    finally:
        renewing.join()
        _native.lib.b2b_client_free(handle.value)
