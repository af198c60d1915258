<?php
/*
 * token.php with its config read from a JSON file and decoded on every
 * request (the sandbox's doku config + a cache_file shared by all
 * workers): what reading the config costs a page. The pool sets
 * BENCH_ROOT, BENCH_CONFIG and BENCH_CACHE (env[] in php-fpm.conf).
 * Answers "ok cached|fetched SIGNATURE-PREFIX", or HTTP 500 so wrk counts
 * the failure.
 */

declare(strict_types=1);

require getenv('BENCH_ROOT') . '/bindings/php/autoload.php';

use SnapB2B\Signer;
use SnapB2B\TokenClient;

try {
    $config = json_decode((string) file_get_contents(getenv('BENCH_CONFIG')), true, 8, JSON_THROW_ON_ERROR);
    $config['cache_file'] = getenv('BENCH_CACHE');
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
