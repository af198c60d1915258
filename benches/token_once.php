<?php
/*
 * One PHP-CLI "request": a fresh process creates a client and gets one
 * token, as every PHP-FPM/CGI request would. Run many times by run.sh.
 *
 *   php -d ffi.enable=1 benches/token_once.php CONFIG.json CACHE_FILE|- [START_AT]
 *
 * CACHE_FILE "-" means no cache_file (the baseline). START_AT (unix seconds,
 * fractional) makes concurrent processes wait until the same instant after
 * loading PHP and the library, so they really ask at once.
 * Prints "fetched" or "cached" (the token's "cached" flag) and, with
 * START_AT, how many seconds after it the request began; exits 0 on success.
 */

declare(strict_types=1);

require __DIR__ . '/php_common.php';

[$self, $configFile, $cacheFile, $startAt] = $argv + [null, null, '-', null];
$config = json_decode(file_get_contents($configFile), true);
if ($cacheFile !== '-') {
    $config['cache_file'] = $cacheFile;
}
// Creating the client parses the key and config only; no request yet.
[, $getToken] = token_getter($config);
$late = '';
if ($startAt !== null) {
    $wait = (float) $startAt - microtime(true);
    if ($wait > 0) {
        usleep((int) ($wait * 1e6));
    }
    $late = sprintf(' %.3f', microtime(true) - (float) $startAt);
}
$token = $getToken();
if (is_string($token)) {
    $cached = json_decode($token, true)['cached'] ?? null;
} else {
    // The binding's Token; older ones may not expose where it came from.
    $cached = method_exists($token, 'isCached') ? $token->isCached() : null;
}
echo ($cached === null ? 'unknown' : ($cached ? 'cached' : 'fetched')), $late, "\n";
