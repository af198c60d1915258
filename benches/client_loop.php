<?php
/*
 * PHP CLI loop as legacy code writes it: `new TokenClient($config)` and
 * getToken() on every iteration, with a cache_file (after the first
 * iteration the token is in the file, and in the process once the library
 * keeps clients per config). Against one SnapB2B\Signer::sign call (same
 * key), timed per call in the same rounds.
 *
 *   php -d ffi.enable=1 benches/client_loop.php CONFIG.json CACHE_FILE SECONDS REPEATS
 *
 * Prints "name value" lines: php_loop_new_client_us and php_loop_sign_us
 * (median microseconds per iteration over all rounds), their counts, and
 * php_loop_fetched (iterations whose token was not cached: should be 1, the
 * first, untimed one).
 */

declare(strict_types=1);

require dirname(__DIR__) . '/bindings/php/autoload.php';

use SnapB2B\Signer;
use SnapB2B\TokenClient;

[$self, $configFile, $cacheFile, $seconds, $repeats] = $argv + [null, null, null, '1', '5'];
$config = json_decode(file_get_contents($configFile), true, 8, JSON_THROW_ON_ERROR);
$config['cache_file'] = $cacheFile;
@unlink($cacheFile);
$pem = file_get_contents($config['private_key_file']);
$clientId = $config['client_id'];

$fetched = 0;
$newClient = static function () use ($config, &$fetched): void {
    $client = new TokenClient($config); // freed on the next iteration, as at the end of a request
    if (!$client->getToken()->isCached()) {
        $fetched++;
    }
};
$sign = static function () use ($pem, $clientId): void {
    Signer::sign($pem, $clientId, '2024-12-31T10:11:40+07:00');
};

// The one real token request (and the library's parsed-key cache for sign).
$newClient();
$sign();

/** Per-call nanoseconds of $fn for $seconds, at most 200k calls (bounds the memory). */
function timings(callable $fn, float $seconds): array
{
    $times = [];
    $end = hrtime(true) + (int) ($seconds * 1e9);
    do {
        $t0 = hrtime(true);
        $fn();
        $times[] = ($t1 = hrtime(true)) - $t0;
    } while ($t1 < $end && count($times) < 200000);
    return $times;
}

function median(array $xs): float
{
    sort($xs);
    $n = count($xs);
    return $n % 2 ? $xs[intdiv($n, 2)] : ($xs[$n / 2 - 1] + $xs[$n / 2]) / 2;
}

// Rounds interleave the two cases, so a burst of load hits both.
$all = ['php_loop_new_client' => [], 'php_loop_sign' => []];
for ($r = 0; $r < (int) $repeats; $r++) {
    array_push($all['php_loop_new_client'], ...timings($newClient, (float) $seconds));
    array_push($all['php_loop_sign'], ...timings($sign, (float) $seconds));
}
foreach ($all as $name => $times) {
    printf("%s_us %.1f\n%s_count %d\n", $name, median($times) / 1000, $name, count($times));
}
echo "php_loop_fetched $fetched\n";
