<?php
/*
 * PHP token calls on a fresh cached token, one thread, against the sandbox.
 *
 *   php -d ffi.enable=1 benches/client_bench.php CONFIG.json SECONDS REPEATS
 *
 * Uses SnapB2B\TokenClient::getToken once the binding keeps a native client
 * handle (its sources call b2b_client_token); until then raw FFI calls to
 * b2b_client_token on a handle from b2b_client_new. The "php_client_mode" line says
 * which. Prints "php_client_token_cached calls_per_second", best of REPEATS.
 */

declare(strict_types=1);

require __DIR__ . '/php_common.php';

[$self, $configFile, $seconds, $repeats] = $argv + [null, null, '1.5', '3'];
$config = json_decode(file_get_contents($configFile), true);

[$mode, $getToken] = token_getter($config);
echo "php_client_mode $mode\n";

$getToken(); // the one real request; the token lives 900 s
$best = 0.0;
for ($r = 0; $r < (int) $repeats; $r++) {
    $n = 0;
    $start = hrtime(true);
    $end = $start + (int) ((float) $seconds * 1e9);
    do {
        $getToken();
        $n++;
    } while (($t = hrtime(true)) < $end);
    $best = max($best, $n / (($t - $start) / 1e9));
}
printf("php_client_token_cached %.1f\n", $best);
