<?php

/*
 * A merchant's SNAP endpoint with snapb2b (PHP FFI): issues B2B access
 * tokens to a provider and checks the provider's notifications before
 * trusting them. A router script for PHP's built-in server:
 *
 *   SNAPB2B_SERVER_CONFIG=server.json php -d ffi.enable=1 -S 127.0.0.1:8080 examples/merchant_endpoint.php
 *   SNAPB2B_SERVER_CONFIG=server.json php -d ffi.enable=1 examples/merchant_endpoint.php [--port 8080]
 *
 * (the second form starts the first; the port is --port, else $PORT, else
 * 8080). server.json: {"partners": [{"client_id": "PROVIDER-ID",
 * "public_key_file": "provider-public.pem"}], "token_secret_file":
 * "/etc/snap/token-secret"}. A token secret is needed: every request builds
 * its own Server, and a token must verify in the next one.
 *
 *   POST /v1.0/access-token/b2b  the provider's token request, answered by the library
 *   any other POST               a notification: checked (token, signature,
 *                                timestamp); accepted => 200 2002500
 *
 * Replays: each request here builds its own Server, so give the config a
 * "replay_file": every request (and every PHP-FPM worker) then shares one
 * record of the day's X-EXTERNAL-IDs. Still process notifications
 * idempotently by X-EXTERNAL-ID.
 *
 * One log line per request on stdout: method, path, status, client, reason.
 * Never the token, never the body.
 */

declare(strict_types=1);

require __DIR__ . '/../bindings/php/autoload.php';

use SnapB2B\Server;
use SnapB2B\ServerRequest;
use SnapB2B\SnapException;

if (PHP_SAPI === 'cli') {
    // Started directly: become the built-in server with this file as its router.
    $options = getopt('', ['port:']);
    $port = $options['port'] ?? (getenv('PORT') ?: '8080');
    if (!is_string($port) || !ctype_digit($port) || (int) $port > 65535) {
        fwrite(STDERR, "usage: php examples/merchant_endpoint.php [--port N] (or PORT=N)\n");
        exit(2);
    }
    if (getenv('SNAPB2B_SERVER_CONFIG') === false) {
        fwrite(STDERR, "set SNAPB2B_SERVER_CONFIG to a server config JSON file\n");
        exit(2);
    }
    pcntl_exec(PHP_BINARY, ['-d', 'ffi.enable=1', '-S', '127.0.0.1:' . $port, __FILE__]);
    fwrite(STDERR, "cannot start " . PHP_BINARY . "\n");
    exit(1);
}

const TOKEN_PATH = '/v1.0/access-token/b2b';
// SNAP service codes of the notifications this merchant takes: they go into
// the response codes of refusals (4012500, ...).
const SERVICE_CODES = ['/v1.0/transfer-va/inquiry' => '24', '/v1.0/transfer-va/payment' => '25'];
const SUCCESS = '{"responseCode":"2002500","responseMessage":"Successful"}';

function logLine(ServerRequest $request, int $status, ?string $client, string $reason): void
{
    file_put_contents('php://stdout', sprintf(
        "%s %s -> %d client=%s %s\n",
        $request->method(),
        $request->path(),
        $status,
        $client ?? '-',
        $reason
    ));
}

$request = ServerRequest::fromGlobals();
try {
    $server = Server::fromJsonFile((string) getenv('SNAPB2B_SERVER_CONFIG'));
    if ($request->route() === TOKEN_PATH) {
        $answer = $server->tokenResponseTo($request);
    } else {
        $answer = $server->checkRequest($request, SERVICE_CODES[$request->route()] ?? null);
        // Accepted: process json_decode($request->body(), true) here, once
        // per $answer->externalId().
    }
} catch (SnapException $e) {
    // Only this endpoint's own set-up (config, keys) or an internal failure
    // gets here; whatever the sender got wrong is a refusal answer.
    logLine($request, 500, null, $e->getMessage());
    http_response_code(500);
    header('Content-Type: application/json');
    echo '{"responseCode":"5000000","responseMessage":"General Error"}';
    return true;
}
logLine($request, $answer->accepted() && $answer->body() === null ? 200 : $answer->httpStatus(), $answer->clientId(), $answer->reason());
$answer->send(SUCCESS);
return true;
