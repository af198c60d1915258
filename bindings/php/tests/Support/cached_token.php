<?php

/*
 * A child process of TokenClientCacheTest: one PHP "request" that creates a
 * TokenClient and prints what getToken() returned, as one JSON line
 * {"token","cached"}. Works under php-cli and php-cgi (inputs come from the
 * environment, not argv):
 *
 *   SNAPB2B_TEST_CONFIG   path of the client config JSON (with cache_file)
 *   SNAPB2B_TEST_BARRIER  when "1": print "ready" once the client exists, then
 *                         wait for a line on stdin before getToken(), so the
 *                         parent can release all its children at once
 *
 * On failure prints `error: NAME: message` and exits with the status code.
 */

declare(strict_types=1);

require dirname(__DIR__, 2) . '/autoload.php';

$config = json_decode((string) file_get_contents((string) getenv('SNAPB2B_TEST_CONFIG')), true);
try {
    // Library loaded and key parsed before the barrier.
    $client = new SnapB2B\TokenClient($config);
    if (getenv('SNAPB2B_TEST_BARRIER') === '1') {
        // php://stdout and php://stdin are the process's own descriptors,
        // unbuffered, under php-cli and php-cgi alike.
        $out = fopen('php://stdout', 'w');
        fwrite($out, "ready\n");
        fflush($out);
        fgets(fopen('php://stdin', 'r'));
    }
    $token = $client->getToken();
} catch (SnapB2B\SnapException $e) {
    echo 'error: ', $e->getStatusName(), ': ', $e->getMessage(), "\n";
    exit($e->getStatus());
}
echo json_encode(['token' => $token->getAccessToken(), 'cached' => $token->isCached()]), "\n";
