"""Renders the figures benches/run.sh collected as a markdown table with the
issue's targets, prints it and writes it to build/bench-results.md.

    python3 benches/report.py FIGURES.txt OUTPUT.md

FIGURES.txt holds "name value..." lines. A benchmark whose figures are
missing is shown as "could not run", and the exit status is then 1.
"""

import datetime
import os
import sys

figures_file, output = sys.argv[1], sys.argv[2]
fig = {}
with open(figures_file) as f:
    for line in f:
        name, _, value = line.strip().partition(" ")
        if name:
            fig[name] = value


def num(name, field=0):
    """The field-th number of a figure: 0 the wall-clock rate, 1 the per-CPU-second rate."""
    return float(fig[name].split()[field])


rows = []
missing = []


def row(label, build):
    """build() returns (measured, baseline, ratio, target, met) as text."""
    try:
        cells = build()
    except (KeyError, ValueError, IndexError, ZeroDivisionError):
        missing.append(label)
        cells = ("could not run", "", "", "", "NO")
    rows.append((label,) + tuple(cells))


def rate(x, unit):
    return "{:,.0f} {}/s".format(x, unit)


def ratio_row(measured, m_unit, baseline, b_what, target):
    r = measured / baseline
    return (rate(measured, m_unit), "{} ({})".format(rate(baseline, m_unit), b_what),
            "{:.2f}x".format(r), ">= {}x".format(target), "yes" if r >= target else "**NO**")


def php_mode(key, library_what):
    if key not in fig:
        return library_what + " (did not run)"
    return library_what if fig[key].startswith("binding") else "raw FFI b2b_* calls"


row("1. b2b_sign, same PEM string each call, 1 thread (C)",
    lambda: ratio_row(num("b2b_1t"), "signs", num("openssl_1t"),
                      "OpenSSL EVP_DigestSign, key parsed once", 0.9))
row("2. b2b_sign, 2 threads (C)",
    lambda: ratio_row(num("b2b_2t"), "signs", num("b2b_1t"), "b2b_sign, 1 thread", 1.8))
row("3. PHP {}, PEM string".format(php_mode("php_sign_mode", "SnapB2B\\Signer::sign")),
    lambda: ratio_row(num("php_library_sign"), "signs", num("php_openssl_sign"),
                      "openssl_sign + base64_encode, same PEM string", 2.5))
row("4a. Python snapb2b.sign, PEM string, vs a preloaded key",
    lambda: ratio_row(num("py_library_sign"), "signs", num("py_crypto_preloaded"),
                      "cryptography, key loaded once", 0.8))
row("4b. Python snapb2b.sign, PEM string, vs load-then-sign",
    lambda: ratio_row(num("py_library_sign"), "signs", num("py_crypto_load_then_sign"),
                      "cryptography, load key + sign each call", 20))


def absolute_rate(measured, baseline, b_what, floor):
    return (rate(measured, "calls"), "{} ({})".format(rate(baseline, "calls"), b_what),
            "{:.2f}x".format(measured / baseline), ">= {:,} calls/s".format(floor),
            "yes" if measured >= floor else "**NO**")


row("5a. b2b_client_token, fresh cached token, 1 thread (C)",
    lambda: absolute_rate(num("c_client_token_cached"), num("c_client_renew"),
                          "forced renewal over HTTPS", 200000))
row("5b. PHP {}, fresh cached token".format(
        php_mode("php_client_mode", "TokenClient::getToken (native handle)")),
    lambda: absolute_rate(num("php_client_token_cached"), num("c_client_token_cached"),
                          "the same from C", 20000))


def processes(name, count, how):
    requests = int(fig[name + "_cache_token_requests"])
    failures = int(fig[name + "_cache_failures"])
    base = int(fig[name + "_nocache_token_requests"])
    spread = fig.get(name + "_cache_spread_s")
    measured = "{} token request{} ({}/{} processes got a token{}, {} s in all)".format(
        requests, "" if requests == 1 else "s", count - failures, count,
        ", asking within {} s of each other".format(spread) if spread else "", fig[name + "_cache_seconds"])
    return (measured, "{} token requests (same processes without cache_file)".format(base),
            "{:.3f}x ({}/{})".format(requests / base, requests, base), "exactly 1",
            "yes" if requests == 1 and failures == 0 else "**NO**")


mode6 = php_mode("php_process_mode", "TokenClient")
row("6a. 50 PHP processes one after another, one cache_file ({})".format(mode6),
    lambda: processes("seq", 50, "sequential"))
row("6b. 20 PHP processes at once, one cache_file ({})".format(mode6),
    lambda: processes("conc", 20, "concurrent"))


def renewals():
    conns = int(fig["renew_connections"])
    reqs = int(fig["renew_token_requests"])
    base = int(fig["get_token_connections"])
    return ("{} TLS connection{} for {} token requests ({})".format(
                conns, "" if conns == 1 else "s", reqs, rate(num("c_client_renew"), "renewals")),
            "{} connections (100 one-shot b2b_get_token, {})".format(base, rate(num("c_get_token"), "requests")),
            "{:.2f}x ({}/{})".format(conns / base, conns, base), "1 connection",
            "yes" if conns == 1 and reqs == 100 else "**NO**")


row("7. 100 forced renewals on one client over HTTPS (C)", renewals)
row("8. one-shot get_token, new TLS connection each, system trust store ({} roots), Python".format(
        fig.get("trust_roots", "?")),
    lambda: ratio_row(num("py_oneshot_library"), "tokens", num("py_oneshot_by_hand"),
                      "cryptography + http.client, new default SSL context per call", 2))

def php_loop():
    us, base = num("php_loop_new_client_us"), num("php_loop_sign_us")
    reqs = int(fig["php_loop_token_requests"])
    return ("{:,.0f} µs per iteration ({} iterations; {} token request{})".format(
                us, fig["php_loop_new_client_count"], reqs, "" if reqs == 1 else "s"),
            "{:,.0f} µs (one Signer::sign, same key)".format(base),
            "{:.2f}x".format(us / base), "<= 50 µs",
            "yes" if us <= 50 and reqs == 1 else "**NO**")


row("9. PHP CLI loop: new TokenClient + getToken per iteration, cache_file (median)", php_loop)


def fpm(name, target=True):
    def build():
        token, hello = num(name + "_token_rps"), num(name + "_hello_rps")
        reqs = int(fig[name + "_sandbox_token_requests"])
        errors = int(fig[name + "_token_errors"]) + int(fig[name + "_hello_errors"])
        r = token / hello
        # The same page reading its config JSON on every request (older runs had no such page).
        json_rps = fig.get(name + "_token_json_rps")
        errors += int(fig.get(name + "_token_json_errors", 0))
        json_note = "; config JSON read and decoded per request: {}, {:.2f}x".format(
            rate(float(json_rps), "requests"), float(json_rps) / hello) if json_rps else ""
        return ("{} token.php (p50 {} ms, p99 {} ms; {} token request{} to the provider{}{})".format(
                    rate(token, "requests"), fig[name + "_token_p50_ms"], fig[name + "_token_p99_ms"], reqs,
                    "" if reqs == 1 else "s", json_note, "; {} failed requests".format(errors) if errors else ""),
                "{} (hello.php, p50 {} ms)".format(rate(hello, "requests"), fig[name + "_hello_p50_ms"]),
                "{:.2f}x".format(r), ">= 0.6x, 1 token request" if target else "none (see 10b)",
                ("yes" if r >= 0.6 and reqs == 1 and errors == 0 else "**NO**") if target
                else ("1 token request" if reqs == 1 and errors == 0 else "**NO**"))
    return build


row("10a. php-fpm pool (pm static, 8 children) behind nginx, wrk -c20: new TokenClient + "
    "getToken + serviceSignature per request, cache_file, config from a PHP file (opcache); "
    "ffi.enable=true (FFI::cdef per request: not PHP's default for FPM, measured for comparison)",
    fpm("fpm", target=False))
row("10b. the same pool with the binding preloaded (opcache.preload of preload.php, ffi.enable=preload: "
    "the binding's production setup)", fpm("fpm_preload"))


def service_calls(step, measured, baseline, b_what, target):
    """A service-call row: the ratio of wall-clock rates, met only when the
    sandbox accepted (2002400) exactly the calls the program counted, each
    side's count included."""
    m, b = num(measured), num(baseline)
    counted = int(fig[measured + "_calls"]) + int(fig[baseline + "_calls"])
    ok, sent = int(fig[step + "_sandbox_ok"]), int(fig[step + "_sandbox_calls"])
    r = m / b
    met = r >= target and ok == sent == counted
    return ("{} (by CPU time of the calling process {:.2f}x)".format(rate(m, "calls"), num(measured, 1) / num(baseline, 1)),
            "{} ({})".format(rate(b, "calls"), b_what), "{:.2f}x".format(r), ">= {}x".format(target),
            ("yes" if met else "**NO**") + ("" if ok == sent == counted else
                                           " (sandbox accepted {} of {} calls, programs counted {})".format(ok, sent, counted)))


row("11. b2b_client_request, VA inquiry, warm connection, new X-EXTERNAL-ID per call (C)",
    lambda: service_calls("c_request", "c_request_library", "c_request_curl",
                          "libcurl keep-alive loop, headers signed with OpenSSL HMAC before the timing", 0.85))
row("12. PHP TokenClient::request, VA inquiry",
    lambda: service_calls("php_request", "php_request_library", "php_request_curl",
                          "PHP curl, new handle per call, hash_hmac + json_encode in PHP", 2))
row("13. Python Client.request, VA inquiry",
    lambda: service_calls("py_request", "py_request_library", "py_request_by_hand",
                          "http.client keep-alive, hmac/hashlib signing per call", 0.9))

def server_rate(measured, baseline, unit, b_what, floor):
    """A merchant-side row: a floor on answers per second (one core), with
    the ratio to raw OpenSSL verification of the same data alongside."""
    m, b = num(measured), num(baseline)
    fig[measured + "_accepted"]  # every timed answer was accepted (else the program exits 2)
    return ("{} (by CPU time {:,.0f}/s, {:.2f}x)".format(rate(m, unit), num(measured, 1),
                                                         num(measured, 1) / num(baseline, 1)),
            "{} ({})".format(rate(b, "verifies"), b_what), "{:.2f}x".format(m / b),
            ">= {:,} {}/s".format(floor, unit), "yes" if m >= floor else "**NO**")


row("14. b2b_server_token, RSA-signed token request -> HS256 JWT, 1 thread (C)",
    lambda: server_rate("server_token", "openssl_verify_token", "answers",
                        "OpenSSL EVP_DigestVerify, RSA-2048, key parsed once, same data", 10000))
row("15. b2b_server_check, RSA-signed notification, distinct X-EXTERNAL-IDs, 1 thread (C)",
    lambda: server_rate("server_check", "openssl_verify_check", "verdicts",
                        "OpenSSL EVP_DigestVerify of the string-to-sign, key parsed once", 10000))

def fleet():
    """4 hosts x 10 processes: one token request for the fleet with cache_url."""
    reqs, base = int(fig["fleet_redis_token_requests"]), int(fig["fleet_noredis_token_requests"])
    fails = int(fig["fleet_redis_failures"]) + int(fig["fleet_noredis_failures"])
    return ("{} token request{} for 40 processes ({} failed)".format(reqs, "" if reqs == 1 else "s", fails),
            "{} token requests (each host's cache_file only)".format(base),
            "{:.2f}x ({}/{})".format(reqs / base, reqs, base), "exactly 1",
            "yes" if reqs == 1 and fails == 0 else "**NO**")


row("16. 4 hosts x 10 C processes at once, each host its own cache_file, one cache_url (Redis)", fleet)
row("17. b2b_client_token, fresh cached token, cache_url set, 1 thread (C)",
    lambda: absolute_rate(num("c_client_token_cached_redis"), num("c_client_token_cached"),
                          "the same without cache_url", 200000))


def redis_miss():
    us, file_us, ping = num("c_first_token_redis_us"), num("c_first_token_file_us"), num("redis_ping_us")
    return ("{:,.0f} µs per new client's first token (TCP connect + GET; Redis PING round trip {:,.0f} µs)".format(
                us, ping),
            "{:,.0f} µs (the same from cache_file)".format(file_us), "{:.2f}x".format(us / file_us),
            "from Redis, no token request", "yes")


row("18. a token not in memory, served from Redis to a new client (C, median of 200)", redis_miss)

header = ("benchmark", "measured", "baseline", "ratio", "target", "met?")
table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
table += ["| " + " | ".join(r) + " |" for r in rows]

notes = []


def cores(name):
    """CPU time / wall time of a measurement: wall rate / CPU rate."""
    return num(name) / num(name, 1)


if "openssl_2t" in fig and "b2b_2t" in fig:
    notes.append(
        "Row 2 control: raw OpenSSL on 2 threads sharing one key did {:,.0f} signs/s = {:.2f}x its "
        "1 thread. Cores used (CPU time / wall time) by the 2-thread runs: b2b_sign {:.2f}, OpenSSL "
        "{:.2f}; 2.00 = both cores the whole time, less = other processes took CPU or the threads "
        "waited. Signs per CPU-second, 2 threads vs 1: b2b_sign {:.2f}x, OpenSSL {:.2f}x (1.00 = no "
        "per-call cost from running in parallel).".format(
            num("openssl_2t"), num("openssl_2t") / num("openssl_1t"), cores("b2b_2t"), cores("openssl_2t"),
            num("b2b_2t", 1) / num("b2b_1t", 1), num("openssl_2t", 1) / num("openssl_1t", 1)))
cross = []
for label, a, b in (("1", "b2b_1t", "openssl_1t"), ("3", "php_library_sign", "php_openssl_sign"),
                    ("4a", "py_library_sign", "py_crypto_preloaded"),
                    ("4b", "py_library_sign", "py_crypto_load_then_sign")):
    try:
        cross.append("row {} {:.2f}x".format(label, num(a, 1) / num(b, 1)))
    except (KeyError, ValueError, IndexError, ZeroDivisionError):
        pass
if cross:
    notes.append("The same ratios by CPU time (calls per CPU-second of the benchmark process, "
                 "which other processes' load does not dilute): " + ", ".join(cross) + ".")
if "php_openssl_preloaded" in fig and "php_openssl_sign" in fig:
    notes.append(
        "Row 3 ceiling: PHP openssl_sign with a key parsed once (signing alone, which no library "
        "given a PEM string can beat) did {:,.0f} signs/s = {:.2f}x openssl_sign with the PEM string "
        "(by CPU time {:.2f}x); the library reached {:.0%} of it{}.".format(
            num("php_openssl_preloaded"), num("php_openssl_preloaded") / num("php_openssl_sign"),
            num("php_openssl_preloaded", 1) / num("php_openssl_sign", 1),
            num("php_library_sign") / num("php_openssl_preloaded"),
            "" if "php_raw_ffi_sign" not in fig else
            " (raw FFI b2b_sign {:.0%})".format(num("php_raw_ffi_sign") / num("php_openssl_preloaded"))))
if "server_token_accepted" in fig and "server_check_accepted" in fig:
    notes.append("Rows 14-15: every timed answer was checked: {} token requests answered accepted with "
                 "HTTP 200, {} notifications accepted, each with its own X-EXTERNAL-ID (a replayed one "
                 "is refused, checked before timing). Rates are wall-clock; the CPU-time figure counts "
                 "the benchmark process only.".format(fig["server_token_accepted"], fig["server_check_accepted"]))
busy = ["{} {}".format(k[len("busy_before_"):], v) for k, v in fig.items() if k.startswith("busy_before_")]
if busy:
    notes.append("Cores other processes kept busy just before each timed step (of {}; the script "
                 "waits up to BENCH_QUIET_WAIT s in all for < 0.25): {}. Figures taken on a busy "
                 "machine understate throughput, above all the 2-thread one.".format(
                     fig.get("nproc", "?"), ", ".join(busy)))
if "library_after" in fig and fig["library_after"] not in fig.get("library", ""):
    notes.append("WARNING: target/release/libsnapb2b.so was rebuilt during the run ({}); "
                 "figures may mix two builds.".format(fig["library_after"]))
if "py_crypto_version" in fig:
    notes.append("Python baseline: cryptography {} (its own bundled OpenSSL); the C and PHP "
                 "figures use the system {}.".format(fig["py_crypto_version"], fig.get("openssl", "?")))
for key, what in (("php_sign_mode", "3"), ("php_client_mode", "5b"), ("php_process_mode", "6")):
    if key in fig:
        notes.append("PHP for row {}: {}.".format(what, fig[key]))
for name in ("seq_nocache", "conc_nocache"):
    if name + "_seconds" in fig:
        notes.append("{}: {} s without cache_file; processes that fetched a token themselves: with "
                     "cache_file {}, without {}.".format(
                         name.split("_")[0], fig[name + "_seconds"],
                         fig.get(name.replace("nocache", "cache") + "_fetched", "?"),
                         fig.get(name + "_fetched", "?")))

if "fleet_down_token_requests" in fig:
    notes.append("Row 16 with cache_url's Redis down (nothing listening): {} token requests, {} of 40 "
                 "processes failed: each host's cache_file still shares its own token.".format(
                     fig["fleet_down_token_requests"], fig.get("fleet_down_failures", "?")))

for name, label in (("fpm", "10a"), ("fpm_preload", "10b")):
    if name + "_setup" in fig:
        notes.append("Row {}: {}; {} hello.php, {} token.php and {} token_json.php requests in all; nginx, "
                     "php-fpm and wrk share the machine's cores.".format(
                         label, fig[name + "_setup"], fig.get(name + "_hello_http_requests", "?"),
                         fig.get(name + "_token_http_requests", "?"),
                         fig.get(name + "_token_json_http_requests", "?")))

conns = ["{} {}".format(step, fig[step + "_sandbox_connections"])
         for step in ("c_request", "py_request", "php_request") if step + "_sandbox_connections" in fig]
if conns:
    notes.append("Rows 11-13: every call was answered HTTP 200 with responseCode 2002400 (checked per call; "
                 "any other answer aborts the row). TLS connections the sandbox saw per step: {} (rows 11 "
                 "and 13: 1 per side, kept; row 12's baseline opens one per call). The sandbox shares the "
                 "machine's cores and its per-call cost bounds both sides' wall-clock rates; the CPU-time "
                 "ratio counts the calling process only.".format(", ".join(conns)))

if "c_client_headers" in fig and "c_request_curl" in fig:
    notes.append("Row 11 context: b2b_client_headers alone (building and signing one call's headers, the work "
                 "the libcurl baseline did before its timing) ran at {:,.0f} calls/s = {:.0f} µs per call; one "
                 "baseline call took {:.0f} µs of its process's CPU time, one library call {:.0f} µs.".format(
                     num("c_client_headers"), 1e6 / num("c_client_headers"),
                     1e6 / num("c_request_curl", 1), 1e6 / num("c_request_library", 1)))

machine = ["{}: {}".format(k, fig[k]) for k in ("nproc", "cpu", "openssl", "php", "python", "loadavg", "library") if k in fig]
doc = ["# snapb2b benchmarks", "",
       "`make bench` (benches/run.sh), {}, each rate the best of {} runs of {} s.".format(
           datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
           os.environ.get("BENCH_REPEATS", "?"), os.environ.get("BENCH_SECONDS", "?")), ""]
doc += ["- " + m for m in machine] + [""] + table + [""]
doc += ["- " + n for n in notes]
if missing:
    doc += ["", "Could not run: " + "; ".join(missing) + "."]
text = "\n".join(doc) + "\n"

os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
with open(output, "w") as f:
    f.write(text)
print()
print(text)
print("(written to {})".format(output))
sys.exit(1 if missing else 0)
