<?php
/*
 * PHP signing throughput: the binding's SnapB2B\Signer::sign with a PEM
 * string against what PHP code does without it, openssl_sign() with the same
 * PEM string (which parses the key on every call) + base64_encode().
 *
 *   php -d ffi.enable=1 benches/sign_bench.php KEY.pem SECONDS REPEATS
 *
 * Prints "name calls_per_second calls_per_cpu_second" lines: the best of
 * REPEATS runs of SECONDS (rounds interleaved) by wall-clock time, and by
 * this process's CPU time, which preemption by other processes does not
 * inflate. When bindings/php/src/Signer.php is missing
 * (the binding is not there yet) it benchmarks raw FFI calls to b2b_sign
 * instead and says so on the "php_sign_mode" line.
 */

declare(strict_types=1);

[$self, $keyFile, $seconds, $repeats] = $argv + [null, null, '1.5', '3'];
$pem = file_get_contents($keyFile);
$seconds = (float) $seconds;
$repeats = (int) $repeats;
$clientId = 'BENCH-CLIENT-0001';
$timestamp = '2024-12-31T10:11:40+07:00';
$root = dirname(__DIR__);

// Raw FFI, as a PHP user would write it without the binding.
$ffi = FFI::cdef(file_get_contents("$root/bindings/php/snapb2b_ffi.h"), "$root/target/release/libsnapb2b.so");
$rawSign = static function () use ($ffi, $pem, $clientId, $timestamp): string {
    $out = $ffi->new('char*');
    if ($ffi->b2b_sign($pem, $clientId, $timestamp, FFI::addr($out)) !== 0) {
        throw new RuntimeException('b2b_sign: ' . $ffi->b2b_last_error());
    }
    $sig = FFI::string($out);
    $ffi->b2b_free($out);
    return $sig;
};

$haveBinding = is_file("$root/bindings/php/src/Signer.php");
if ($haveBinding) {
    require "$root/bindings/php/autoload.php";
    $library = static fn (): string => \SnapB2B\Signer::sign($pem, $clientId, $timestamp);
    echo "php_sign_mode binding SnapB2B\\Signer::sign\n";
} else {
    $library = $rawSign;
    echo "php_sign_mode raw-ffi b2b_sign (bindings/php/src/Signer.php not there yet)\n";
}

$openssl = static function () use ($pem, $clientId, $timestamp): string {
    if (!openssl_sign("$clientId|$timestamp", $sig, $pem, OPENSSL_ALGO_SHA256)) {
        throw new RuntimeException('openssl_sign failed');
    }
    return base64_encode($sig);
};

// Not a target: openssl_sign with a key parsed once (openssl_pkey_get_private)
// is signing alone, the most any library taking a PEM string could reach, so
// openssl_preloaded / openssl_sign is the ceiling of the target's ratio.
$parsed = openssl_pkey_get_private($pem);
$opensslPreloaded = static function () use ($parsed, $clientId, $timestamp): string {
    if (!openssl_sign("$clientId|$timestamp", $sig, $parsed, OPENSSL_ALGO_SHA256)) {
        throw new RuntimeException('openssl_sign failed');
    }
    return base64_encode($sig);
};

// Same bytes from every path, or the comparison means nothing. Also warms
// the library's parsed-key cache and loads the FFI library.
if ($library() !== $openssl() || $rawSign() !== $openssl() || $opensslPreloaded() !== $openssl()) {
    fwrite(STDERR, "signatures differ\n");
    exit(2);
}

function cpu_seconds(): float
{
    $u = getrusage();
    return $u['ru_utime.tv_sec'] + $u['ru_utime.tv_usec'] / 1e6 + $u['ru_stime.tv_sec'] + $u['ru_stime.tv_usec'] / 1e6;
}

/** [calls per wall-clock second, calls per CPU second] of $fn over $seconds. */
function rate(callable $fn, float $seconds): array
{
    $n = 0;
    $cpu = cpu_seconds();
    $start = hrtime(true);
    $end = $start + (int) ($seconds * 1e9);
    do {
        $fn();
        $n++;
    } while (($t = hrtime(true)) < $end);
    return [$n / (($t - $start) / 1e9), $n / max(cpu_seconds() - $cpu, 1e-6)];
}

$cases = ['php_openssl_sign' => $openssl, 'php_library_sign' => $library, 'php_openssl_preloaded' => $opensslPreloaded];
if ($haveBinding) {
    $cases['php_raw_ffi_sign'] = $rawSign; // binding overhead, for information
}
$best = array_fill_keys(array_keys($cases), [0.0, 0.0]);
for ($r = 0; $r < $repeats; $r++) {
    foreach ($cases as $name => $fn) {
        [$wall, $cpu] = rate($fn, $seconds);
        $best[$name] = [max($best[$name][0], $wall), max($best[$name][1], $cpu)];
    }
}
foreach ($best as $name => [$wall, $cpu]) {
    printf("%s %.1f %.1f\n", $name, $wall, $cpu);
}
