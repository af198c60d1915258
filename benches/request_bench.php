<?php
/*
 * SNAP service calls (VA inquiry) from PHP against the sandbox:
 * SnapB2B\TokenClient::request (one kept connection in the library) against
 * what field SDKs do with PHP's curl extension: a new curl handle per call
 * (so a new TLS connection), json_encode and hash_hmac('sha512') in PHP.
 *
 *   php -d ffi.enable=1 benches/request_bench.php CONFIG.json SECONDS REPEATS
 *
 * CONFIG.json: a sandbox `snap` config with `client_secret` and `channel_id`
 * added. Both sides use one token (fetched once through the client) and a
 * new X-TIMESTAMP, X-EXTERNAL-ID and signature per call; every answer must
 * be HTTP 200 with responseCode 2002400, anything else aborts (exit 2).
 * Prints "name calls_per_second calls_per_cpu_second" (best of REPEATS
 * runs, rounds interleaved) and "name_calls N" for each side.
 */

declare(strict_types=1);

require dirname(__DIR__) . '/bindings/php/autoload.php';

const PATH = '/v1.0/transfer-va/inquiry';
const SUCCESS = '2002400';

[$self, $configFile, $seconds, $repeats] = $argv + [null, null, '1', '3'];
if (!method_exists(\SnapB2B\TokenClient::class, 'request')) {
    fwrite(STDERR, "request_bench.php: skipped: this PHP binding has no TokenClient::request() yet\n");
    exit(3);
}
if (!function_exists('curl_init')) {
    fwrite(STDERR, "request_bench.php: PHP's curl extension is missing (Debian: php-curl)\n");
    exit(3);
}
$config = json_decode(file_get_contents($configFile), true);
$body = [
    'partnerServiceId' => '  088899',
    'customerNo' => '12345678901234567890',
    'virtualAccountNo' => '  08889912345678901234567890',
    'inquiryRequestId' => 'abcdef-123456-abcdef',
];
$client = new \SnapB2B\TokenClient($config);
$token = $client->getToken()->getAccessToken(); // the one token both sides use
$calls = ['php_request_library' => 0, 'php_request_curl' => 0];

function abort(string $what): void
{
    fwrite(STDERR, "request_bench.php: $what\n");
    exit(2);
}

$library = static function () use ($client, $body, &$calls): void {
    $r = $client->request('POST', PATH, $body);
    if ($r->httpStatus() !== 200 || $r->responseCode() !== SUCCESS) {
        abort("TokenClient::request answered {$r->httpStatus()} {$r->responseCode()}: " . substr($r->text(), 0, 300));
    }
    $calls['php_request_library']++;
};

$jakarta = new DateTimeZone('Asia/Jakarta');
$curl = static function () use ($config, $token, $body, $jakarta, &$calls): void {
    $json = json_encode($body, JSON_UNESCAPED_SLASHES);
    $timestamp = (new DateTimeImmutable('now', $jakarta))->format('Y-m-d\TH:i:sP');
    $stringToSign = 'POST:' . PATH . ':' . $token . ':' . hash('sha256', $json) . ':' . $timestamp;
    $signature = base64_encode(hash_hmac('sha512', $stringToSign, $config['client_secret'], true));
    // 32 digits, not starting with 0, as the library's.
    $externalId = (string) random_int(1, 9);
    for ($i = 0; $i < 31; $i++) {
        $externalId .= (string) random_int(0, 9);
    }
    $ch = curl_init($config['base_url'] . PATH);
    curl_setopt_array($ch, [
        CURLOPT_POST => true,
        CURLOPT_POSTFIELDS => $json,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_CAINFO => $config['ca_file'],
        CURLOPT_TIMEOUT => 10,
        CURLOPT_HTTPHEADER => [
            'Content-Type: application/json',
            'Authorization: Bearer ' . $token,
            'X-TIMESTAMP: ' . $timestamp,
            'X-SIGNATURE: ' . $signature,
            'X-PARTNER-ID: ' . $config['client_id'],
            'X-EXTERNAL-ID: ' . $externalId,
            'CHANNEL-ID: ' . $config['channel_id'],
        ],
    ]);
    $text = curl_exec($ch);
    $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
    $error = curl_error($ch);
    curl_close($ch);
    if ($text === false) {
        abort("curl_exec: $error");
    }
    $answer = json_decode($text, true);
    if ($status !== 200 || ($answer['responseCode'] ?? null) !== SUCCESS) {
        abort("curl call answered $status: " . substr($text, 0, 300));
    }
    $calls['php_request_curl']++;
};

function cpu(): float
{
    $u = getrusage();
    return $u['ru_utime.tv_sec'] + $u['ru_utime.tv_usec'] / 1e6 + $u['ru_stime.tv_sec'] + $u['ru_stime.tv_usec'] / 1e6;
}

// Both work before anything is timed (and the library's connection is open).
$library();
$curl();
$cases = ['php_request_curl' => $curl, 'php_request_library' => $library];
$best = array_fill_keys(array_keys($cases), [0.0, 0.0]);
for ($r = 0; $r < (int) $repeats; $r++) {
    foreach ($cases as $name => $fn) {
        $n = 0;
        $c0 = cpu();
        $start = hrtime(true);
        $end = $start + (int) ((float) $seconds * 1e9);
        do {
            $fn();
            $n++;
        } while (($t = hrtime(true)) < $end);
        $wall = $n / (($t - $start) / 1e9);
        $perCpu = $n / max(cpu() - $c0, 1e-6);
        $best[$name] = [max($best[$name][0], $wall), max($best[$name][1], $perCpu)];
    }
}
foreach ($best as $name => [$wall, $perCpu]) {
    printf("%s %.1f %.1f\n", $name, $wall, $perCpu);
}
foreach ($calls as $name => $n) {
    echo "{$name}_calls $n\n";
}
