<?php

/*
 * A SNAP service call (virtual-account inquiry) with snapb2b from PHP (FFI).
 *
 *   php -d ffi.enable=1 examples/service_call.php config.json service.json
 *
 * config.json holds the token config (provider, base_url, client_id,
 * private_key_file, ...); service.json adds the service-call keys, e.g.
 * {"client_secret": "...", "channel_id": "95221"} (or put them in
 * config.json and leave service.json out). Prints the answer's HTTP status,
 * response code, X-EXTERNAL-ID and whether the token was renewed. Exits 0
 * when the answer is a success, 6 when the provider answered otherwise, and
 * the status code when no answer was had (`error: NAME: message`; 100 when
 * the native library cannot be loaded).
 */

declare(strict_types=1);

require __DIR__ . '/../bindings/php/autoload.php';

use SnapB2B\LibraryException;
use SnapB2B\SnapException;
use SnapB2B\TokenClient;

if ($argc < 2 || $argc > 3) {
    fwrite(STDERR, "usage: php examples/service_call.php CONFIG.json [SERVICE.json]\n");
    exit(2);
}
$service = [];
if ($argc === 3) {
    $service = json_decode((string) file_get_contents($argv[2]), true);
    if (!is_array($service)) {
        fwrite(STDERR, "error: {$argv[2]} is not a JSON object\n");
        exit(2);
    }
}
$body = [
    'partnerServiceId' => '  088899',
    'customerNo' => '12345678901234567890',
    'virtualAccountNo' => '  08889912345678901234567890',
    'inquiryRequestId' => 'abcdef-123456-abcdef',
];

try {
    $response = TokenClient::fromJsonFile($argv[1], $service)->request('POST', '/v1.0/transfer-va/inquiry', $body);
} catch (SnapException $e) {
    // The message names the X-EXTERNAL-ID when the call may have been processed.
    fwrite(STDERR, "error: {$e->getStatusName()}: {$e->getMessage()}\n");
    exit($e->getStatus());
} catch (LibraryException $e) {
    fwrite(STDERR, "error: LIBRARY: {$e->getMessage()}\n");
    exit(100);
}

printf("http status:   %d\n", $response->httpStatus());
printf("response code: %s %s\n", $response->responseCode() ?? '-', $response->responseMessage() ?? '');
printf("external id:   %s\n", $response->externalId());
printf("token renewed: %s\n", $response->tokenRenewed() ? 'yes' : 'no');
exit($response->ok() ? 0 : 6);
