<?php
/*
 * One request as a PHP shop writes it: a new TokenClient per request (the
 * sandbox's doku config + a cache_file shared by all workers), the token,
 * and the service signature of a call made with it. The config comes from
 * a PHP file returning an array, as PHP applications keep theirs (a
 * framework's cached config): opcache holds it, so no request parses it.
 * token_json.php is this page with a JSON config file read instead (it
 * sets $loadConfig and requires this file). The pool sets BENCH_ROOT and
 * BENCH_CONFIG_PHP (env[] in php-fpm.conf).
 * Answers "ok cached|fetched SIGNATURE-PREFIX", or HTTP 500 so wrk counts
 * the failure.
 */

declare(strict_types=1);

require getenv('BENCH_ROOT') . '/bindings/php/autoload.php';

use SnapB2B\Signer;
use SnapB2B\TokenClient;

try {
    $config = isset($loadConfig) ? $loadConfig() : require getenv('BENCH_CONFIG_PHP');
    $token = (new TokenClient($config))->getToken();
    $body = ['partnerReferenceNo' => '2020102900000000000001', 'amount' => ['value' => '10000.00', 'currency' => 'IDR']];
    // The doku sandbox config has no client secret; the HMAC costs the same with any.
    $signature = Signer::serviceSignature('bench-client-secret', 'POST', '/v1.0/qr/qr-mpm-generate',
        $token->getAccessToken(), $body, Signer::timestamp());
    echo 'ok ', $token->isCached() ? 'cached' : 'fetched', ' ', substr($signature, 0, 8), "\n";
} catch (\Throwable $e) {
    http_response_code(500);
    echo 'error ', get_class($e), ': ', $e->getMessage(), "\n";
}
