<?php

/*
 * Obtain a SNAP B2B access token with snapb2b from PHP (FFI).
 *
 *   php -d ffi.enable=1 examples/get_token.php config.json
 *   SNAPB2B_CONFIG=config.json php -d ffi.enable=1 examples/get_token.php
 *   SNAPB2B_CACHE_FILE=/run/snap/token.json php -d ffi.enable=1 examples/get_token.php config.json
 *
 * config.json holds the library's config keys, e.g.
 *   {"provider": "doku", "environment": "sandbox", "client_id": "BRN-...",
 *    "private_key_file": "/path/merchant-key.pem"}
 *
 * With SNAPB2B_CACHE_FILE set, the token is kept in that file (mode 0600,
 * token and expiry only) and shared by every run with the same config until
 * it is about to expire: run it twice and the second run makes no request
 * ("cached: yes"). This is how PHP-FPM workers should share one token.
 *
 * On failure prints `error: <NAME>: <message>` to stderr and exits with the
 * status code (1 INVALID_ARGUMENT ... 99 INTERNAL); 100 when the native
 * library itself cannot be loaded. Never prints a whole token.
 */

declare(strict_types=1);

require __DIR__ . '/../bindings/php/autoload.php';

use SnapB2B\LibraryException;
use SnapB2B\Native;
use SnapB2B\SnapException;
use SnapB2B\Status;
use SnapB2B\TokenClient;

function fail(string $name, string $message, int $code): void
{
    fwrite(STDERR, "error: $name: $message\n");
    exit($code);
}

$path = $argv[1] ?? getenv('SNAPB2B_CONFIG');
if (!is_string($path) || $path === '') {
    fwrite(STDERR, "usage: php examples/get_token.php CONFIG.json (or set SNAPB2B_CONFIG; SNAPB2B_CACHE_FILE to share the token)\n");
    exit(Status::INVALID_ARGUMENT);
}
$cacheFile = getenv('SNAPB2B_CACHE_FILE');
$overrides = is_string($cacheFile) && $cacheFile !== '' ? ['cache_file' => $cacheFile] : [];

try {
    $token = TokenClient::fromJsonFile($path, $overrides)->getToken();
    $version = Native::version();
} catch (SnapException $e) {
    fail($e->getStatusName(), $e->getMessage(), $e->getStatus());
} catch (LibraryException $e) {
    fail('LIBRARY', $e->getMessage(), 100);
}

// Never print a whole token: logs outlive it.
$left = $token->secondsLeft();
printf("snapb2b %s (PHP %s)\n", $version, PHP_VERSION);
printf("provider:   %s\n", $token->getProvider());
printf("token:      %s (%s)\n", $token->maskedAccessToken(), $token->getTokenType());
printf("expires at: %s (in %d s)\n", gmdate('Y-m-d\TH:i:s\Z', $token->getExpiresAt()), $left);
if ($overrides !== []) {
    printf("cached:     %s\n", $token->isCached() ? 'yes (from SNAPB2B_CACHE_FILE)' : 'no (requested now, saved to SNAPB2B_CACHE_FILE)');
}
