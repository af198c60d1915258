<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\InvalidArgumentException;
use SnapB2B\KeyException;
use SnapB2B\ProviderException;
use SnapB2B\Status;
use SnapB2B\Token;
use SnapB2B\TokenClient;
use SnapB2B\Tests\Support\Keys;
use SnapB2B\Tests\Support\Paths;
use SnapB2B\Tests\Support\Php;
use SnapB2B\Tests\Support\Sandbox;

/**
 * TokenClient on the library's caching client handle: the in-memory cache,
 * invalidate(), cache_file shared by processes (php-cli and php-cgi, as
 * under PHP-FPM), retries, and freeing the handle. Request counts come from
 * the sandbox's GET /sandbox/stats.
 */
final class TokenClientCacheTest extends TestCase
{
    private const CLIENT = 'SANDBOX-CLIENT';

    private ?string $dir = null;

    protected function tearDown(): void
    {
        if ($this->dir !== null) {
            Paths::removeTree($this->dir);
            $this->dir = null;
        }
    }

    private function dir(): string
    {
        if ($this->dir === null) {
            $this->dir = Paths::tempDir('snapb2b-php-cache');
        }
        return $this->dir;
    }

    /**
     * @param array<string, mixed> $changes
     *
     * @return array<string, mixed>
     */
    private static function config(array $changes = [], string $provider = 'snap'): array
    {
        return array_merge(Sandbox::config($provider), $changes);
    }

    public function testSecondCallReturnsTheCachedToken(): void
    {
        $client = new TokenClient(self::config());
        $client->invalidate(); // another test's handle of this config may hold one
        $before = Sandbox::tokenRequests(self::CLIENT);
        $first = $client->getToken();
        $second = $client->getToken();
        $third = $client->getToken();

        self::assertFalse($first->isCached(), 'the first call makes the request');
        self::assertFalse($first->cached);
        self::assertTrue($second->isCached());
        self::assertTrue($second->cached);
        self::assertTrue($second->getCached());
        self::assertTrue($third->isCached());
        self::assertSame($first->getAccessToken(), $second->getAccessToken());
        self::assertSame($first->getAccessToken(), $third->getAccessToken());
        self::assertSame($first->getExpiresAt(), $second->getExpiresAt());
        self::assertSame('snap', $second->getProvider());
        self::assertSame('Bearer', $second->getTokenType());
        self::assertSame(900, $second->getExpiresIn());
        self::assertSame('2007300', $second->getResponseCode());
        self::assertSame(1, Sandbox::tokenRequests(self::CLIENT) - $before, 'one token request for three calls');
    }

    public function testTheCacheFieldSaysWhetherTheTokenIsShared(): void
    {
        // Distinct configs (timeout_ms): each its own client in this process.
        $none = (new TokenClient(self::config(['timeout_ms' => 4001])))->getToken();
        self::assertNull($none->getCache(), 'nothing to share');

        $file = $this->dir() . '/token.json';
        $on = (new TokenClient(self::config(['timeout_ms' => 4002, 'cache_file' => $file])))->getToken();
        self::assertSame('on', $on->getCache());
        self::assertSame('on', $on->cache);

        // A symbolic link at the cache path is never followed: sharing is off, the token still comes.
        $link = $this->dir() . '/link.json';
        symlink($this->dir() . '/elsewhere.json', $link);
        $off = (new TokenClient(self::config(['timeout_ms' => 4003, 'cache_file' => $link])))->getToken();
        self::assertStringStartsWith('off: ', (string) $off->getCache());
        self::assertStringContainsString('symbolic link', (string) $off->getCache());
        self::assertFileDoesNotExist($this->dir() . '/elsewhere.json');

        // Redis down (a closed port): the client fetches alone and says so, without the password.
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        self::assertNotFalse($socket);
        $port = (int) substr((string) strrchr((string) stream_socket_get_name($socket, false), ':'), 1);
        fclose($socket);
        $down = (new TokenClient(self::config([
            'timeout_ms' => 3000,
            'cache_url' => sprintf('redis://:pw-SECRET@127.0.0.1:%d', $port),
        ])))->getToken();
        self::assertFalse($down->isCached());
        self::assertStringStartsWith('unavailable: redis at redis://127.0.0.1:' . $port, (string) $down->getCache());
        self::assertStringNotContainsString('pw-SECRET', (string) $down->getCache());
    }

    public function testInvalidateFetchesANewToken(): void
    {
        $client = new TokenClient(self::config());
        $client->invalidate(); // another test's handle of this config may hold one
        $before = Sandbox::tokenRequests(self::CLIENT);
        $first = $client->getToken();
        $client->invalidate();
        $second = $client->getToken();
        $third = $client->getToken();

        self::assertFalse($second->isCached());
        self::assertNotSame($first->getAccessToken(), $second->getAccessToken());
        self::assertTrue($third->isCached());
        self::assertSame($second->getAccessToken(), $third->getAccessToken());
        self::assertSame(2, Sandbox::tokenRequests(self::CLIENT) - $before);

        $client->invalidate();
        $client->invalidate(); // nothing cached: still fine
        self::assertFalse($client->getToken()->isCached());
    }

    public function testClientsOfOneConfigShareOneMemoryCache(): void
    {
        // What a PHP-FPM worker does: a new TokenClient on every request.
        $first = new TokenClient(self::config());
        $first->invalidate();
        $before = Sandbox::tokenRequests(self::CLIENT);
        $a = $first->getToken();
        unset($first);
        $b = (new TokenClient(self::config()))->getToken();
        self::assertFalse($a->isCached());
        self::assertTrue($b->isCached(), 'the same config: the parsed key, token and connection are reused');
        self::assertSame($a->getAccessToken(), $b->getAccessToken());
        self::assertSame(1, Sandbox::tokenRequests(self::CLIENT) - $before);

        // Another config (here another timeout) is another client.
        $c = (new TokenClient(self::config(['timeout_ms' => 9999])))->getToken();
        self::assertFalse($c->isCached(), 'another config shares nothing');
        self::assertNotSame($a->getAccessToken(), $c->getAccessToken());
    }

    /**
     * PHP-FPM frees each request's FFI object and with it dlcloses the
     * library; it is linked -z nodelete, so the next request's FFI::cdef
     * finds the same process-wide clients (parsed key, token, connection).
     */
    public function testTheLibraryStaysLoadedWhenPhpFreesItsFfi(): void
    {
        $code = <<<'PHP'
            $header = file_get_contents($argv[1]);
            $config = file_get_contents($argv[2]);
            $seen = [];
            for ($request = 0; $request < 3; $request++) {
                $ffi = FFI::cdef($header, $argv[3]);
                $client = $ffi->new('b2b_client *');
                $out = $ffi->new('char *');
                if ($ffi->b2b_client_new($config, FFI::addr($client)) !== 0) { exit(2); }
                if ($request === 0) { $ffi->b2b_client_invalidate($client); }
                if ($ffi->b2b_client_token($client, FFI::addr($out)) !== 0) { exit(3); }
                $seen[] = json_decode(FFI::string($out), true)['cached'];
                $ffi->b2b_free($out);
                $ffi->b2b_client_free($client);
                unset($client, $out, $ffi); // the request ends: PHP dlcloses
            }
            echo json_encode($seen), "\n";
            PHP;
        [$status, $out, $err] = Php::run([
            PHP_BINARY, '-d', 'ffi.enable=1', '-r', $code, '--',
            Paths::packageDir() . '/snapb2b_ffi.h',
            Sandbox::configPath('snap'),
            Paths::repoRoot() . '/target/release/libsnapb2b.so',
        ]);
        self::assertSame(0, $status, $err);
        self::assertSame("[false,true,true]\n", $out, 'the second and third "requests" reuse the first one\'s client');
        // The loop above also passes while other things happen to pin the
        // library (its thread-local destructors do today): the flag itself
        // is what keeps it loaded, so it is checked too.
        [$status, $dynamic, $err] = Php::run(['readelf', '-d', Paths::repoRoot() . '/target/release/libsnapb2b.so']);
        self::assertSame(0, $status, 'readelf (binutils, installed with gcc): ' . $err);
        self::assertMatchesRegularExpression('/FLAGS_1.*\bNODELETE\b/', $dynamic, 'libsnapb2b is linked -z nodelete');
    }

    public function testConfigErrorsSurfaceInTheConstructor(): void
    {
        $cases = [
            'unknown key' => [self::config(['refresh_margin' => 30]), InvalidArgumentException::class, 'refresh_margin'],
            'bad max_retries' => [self::config(['max_retries' => 'two']), InvalidArgumentException::class, 'max_retries'],
            'bad refresh_margin_s' => [self::config(['refresh_margin_s' => -1]), InvalidArgumentException::class, 'refresh_margin_s'],
            'missing client_id' => [array_diff_key(self::config(), ['client_id' => 1]), InvalidArgumentException::class, 'client_id'],
            'missing key file' => [self::config(['private_key_file' => Sandbox::dir() . '/none.pem']), KeyException::class, 'none.pem'],
            // A typo there would silently turn sharing off: refused up front (README, PHP-FPM).
            'cache_file in a missing directory' => [
                self::config(['cache_file' => Sandbox::dir() . '/no-such-dir/token.json']),
                InvalidArgumentException::class,
                'config key `cache_file`: directory ' . Sandbox::dir() . '/no-such-dir does not exist',
            ],
            'public key' => [
                array_merge(array_diff_key(self::config(), ['private_key_file' => 1]), ['private_key' => Keys::publicKey(Sandbox::privateKey())]),
                KeyException::class,
                '',
            ],
        ];
        $before = Sandbox::tokenRequests(self::CLIENT);
        foreach ($cases as $name => [$config, $class, $mentioned]) {
            try {
                new TokenClient($config);
                self::fail("$name: expected $class from the constructor");
            } catch (\SnapB2B\SnapException $e) {
                self::assertInstanceOf($class, $e, "$name: " . get_class($e) . ': ' . $e->getMessage());
                self::assertStringContainsString($mentioned, $e->getMessage(), $name);
            }
        }
        self::assertSame(0, Sandbox::tokenRequests(self::CLIENT) - $before, 'no request for a bad config');
    }

    public function testCacheFileIsSharedBetweenClients(): void
    {
        $cacheFile = $this->dir() . '/snap-token.json';
        $before = Sandbox::tokenRequests(self::CLIENT);
        $first = (new TokenClient(self::config(['cache_file' => $cacheFile])))->getToken();
        self::assertFalse($first->isCached());
        self::assertFileExists($cacheFile);

        // A new handle (as in the next PHP-FPM request) reads the file.
        $second = (new TokenClient(self::config(['cache_file' => $cacheFile])))->getToken();
        self::assertTrue($second->isCached());
        self::assertSame($first->getAccessToken(), $second->getAccessToken());
        self::assertSame($first->getExpiresAt(), $second->getExpiresAt());
        self::assertSame(1, Sandbox::tokenRequests(self::CLIENT) - $before);

        // The entry is bound to provider, URL and client id: nicepay's client is a miss.
        $other = (new TokenClient(self::config(['cache_file' => $cacheFile], 'nicepay')))->getToken();
        self::assertFalse($other->isCached());
        self::assertNotSame($first->getAccessToken(), $other->getAccessToken());
    }

    public function testInvalidateRemovesTheCacheFileEntry(): void
    {
        $cacheFile = $this->dir() . '/snap-token.json';
        $client = new TokenClient(self::config(['cache_file' => $cacheFile]));
        $first = $client->getToken();
        self::assertFileExists($cacheFile);
        $client->invalidate();
        self::assertFileDoesNotExist($cacheFile);

        $second = $client->getToken();
        self::assertFalse($second->isCached());
        self::assertNotSame($first->getAccessToken(), $second->getAccessToken());
        $elsewhere = (new TokenClient(self::config(['cache_file' => $cacheFile])))->getToken();
        self::assertTrue($elsewhere->isCached());
        self::assertSame($second->getAccessToken(), $elsewhere->getAccessToken(), 'other processes see the new token');
    }

    public function testCacheFileIsPrivateAndHoldsNoKeyOrSecret(): void
    {
        $cacheFile = $this->dir() . '/klikoo-token.json';
        $config = self::config(['cache_file' => $cacheFile], 'klikoo');
        $secret = (string) $config['client_secret'];
        self::assertNotSame('', $secret);
        $token = (new TokenClient($config))->getToken();

        clearstatcache();
        self::assertSame(0600, fileperms($cacheFile) & 0777, sprintf('mode %o', fileperms($cacheFile) & 0777));
        if (is_file($cacheFile . '.lock')) {
            self::assertSame(0600, fileperms($cacheFile . '.lock') & 0777, 'the lock file');
        }
        $contents = (string) file_get_contents($cacheFile);
        self::assertStringContainsString($token->getAccessToken(), $contents, 'it is a token cache');
        self::assertStringNotContainsString($secret, $contents, 'the Klikoo client secret');
        self::assertStringNotContainsString('PRIVATE KEY', $contents);
        foreach (Keys::fragments(Sandbox::privateKey()) as $fragment) {
            self::assertStringNotContainsString($fragment, $contents);
        }
        foreach (glob($this->dir() . '/*') ?: [] as $path) {
            self::assertStringNotContainsString($secret, (string) file_get_contents($path), basename($path));
        }
        self::assertSame([], glob($this->dir() . '/.*.tmp') ?: [], 'no temporary file left behind');
    }

    /**
     * The PHP-FPM/CGI situation: a fresh process per request, all sharing one
     * cache_file. 20 php-cli processes at once, then 20 one after another:
     * each phase makes exactly one token request and every process gets the
     * same token.
     */
    public function testProcessesSharingACacheFileMakeOneRequest(): void
    {
        foreach (['concurrent' => true, 'sequential' => false] as $phase => $concurrent) {
            $configPath = $this->writeConfig($phase, self::config(['cache_file' => $this->dir() . "/$phase-token.json"]));
            $command = [PHP_BINARY, '-d', 'ffi.enable=1', Paths::packageDir() . '/tests/Support/cached_token.php'];
            $before = Sandbox::tokenRequests(self::CLIENT);
            $results = $concurrent
                ? self::runTogether(array_fill(0, 20, $command), $configPath)
                : self::runOneByOne(array_fill(0, 20, $command), $configPath);
            $requests = Sandbox::tokenRequests(self::CLIENT) - $before;
            self::assertOneTokenForAll($results, $phase);
            self::assertSame(1, $requests, "$phase: token requests the sandbox saw");
        }
    }

    /** The same through php-cgi with the binding preloaded: the PHP-FPM setup of the README. */
    public function testCgiProcessesWithPreloadingShareTheCacheFile(): void
    {
        $cgi = Php::cgiBinary();
        if ($cgi === null) {
            self::markTestSkipped('php-cgi is not installed');
        }
        $header = $this->dir() . '/snapb2b.h';
        [$code, , $err] = Php::run([PHP_BINARY, Paths::packageDir() . '/preload.php', '--write-header', $header]);
        self::assertSame(0, $code, $err);
        $user = function_exists('posix_getpwuid') ? (posix_getpwuid(posix_geteuid())['name'] ?? 'root') : 'root';
        $command = [$cgi, '-q',
            '-d', 'ffi.enable=preload',
            '-d', 'ffi.preload=' . $header,
            '-d', 'opcache.enable=1',
            '-d', 'opcache.preload=' . Paths::packageDir() . '/preload.php',
            '-d', 'opcache.preload_user=' . $user,
            Paths::packageDir() . '/tests/Support/cached_token.php',
        ];
        $configPath = $this->writeConfig('cgi', self::config(['cache_file' => $this->dir() . '/cgi-token.json']));
        $before = Sandbox::tokenRequests(self::CLIENT);
        $results = self::runTogether(array_fill(0, 8, $command), $configPath);
        self::assertOneTokenForAll($results, 'php-cgi');
        self::assertSame(1, Sandbox::tokenRequests(self::CLIENT) - $before, 'php-cgi: token requests the sandbox saw');
    }

    public function testServerErrorWithoutRetriesIsAProviderError(): void
    {
        $before = Sandbox::tokenRequests('FAULT-500');
        $client = new TokenClient(self::config(['client_id' => 'FAULT-500', 'max_retries' => 0]));
        try {
            $client->getToken();
            self::fail('expected ProviderException');
        } catch (ProviderException $e) {
            self::assertSame(Status::PROVIDER, $e->getStatus());
            self::assertSame(500, $e->getHttpStatus());
            self::assertSame('5007301', $e->getResponseCode());
            self::assertIsString($e->getResponseMessage());
        }
        self::assertSame(1, Sandbox::tokenRequests('FAULT-500') - $before, 'max_retries 0: one attempt');

        $before = Sandbox::tokenRequests('FAULT-500');
        try {
            (new TokenClient(self::config(['client_id' => 'FAULT-500', 'max_retries' => 2, 'timeout_ms' => 10000])))->getToken();
            self::fail('expected ProviderException');
        } catch (ProviderException $e) {
            self::assertSame(500, $e->getHttpStatus());
        }
        self::assertSame(3, Sandbox::tokenRequests('FAULT-500') - $before, 'max_retries 2: three attempts');
    }

    public function testFlakyProviderSucceedsWithRetries(): void
    {
        $before = Sandbox::tokenRequests('FAULT-FLAKY');
        for ($i = 0; $i < 3; $i++) {
            $client = new TokenClient(self::config(['client_id' => 'FAULT-FLAKY', 'max_retries' => 2]));
            $client->invalidate(); // the handles share one config's client
            $token = $client->getToken();
            self::assertFalse($token->isCached());
            self::assertNotSame('', $token->getAccessToken());
        }
        $attempts = Sandbox::tokenRequests('FAULT-FLAKY') - $before;
        self::assertGreaterThanOrEqual(4, $attempts, 'at least one 503 was retried');
        self::assertLessThanOrEqual(6, $attempts);

        // Without retries, of two requests in a row one meets the 503.
        $failures = 0;
        for ($i = 0; $i < 2; $i++) {
            try {
                (new TokenClient(self::config(['client_id' => 'FAULT-FLAKY', 'max_retries' => 0])))->getToken();
            } catch (ProviderException $e) {
                self::assertSame(503, $e->getHttpStatus());
                $failures++;
            }
        }
        self::assertSame(1, $failures);
    }

    public function testDestructorFreesTheHandle(): void
    {
        $config = self::config();
        for ($i = 0; $i < 50; $i++) {
            new TokenClient($config); // warm up the allocators
        }
        gc_collect_cycles();
        $rss = self::rss();
        $php = memory_get_usage();
        for ($i = 0; $i < 1000; $i++) {
            $client = new TokenClient($config);
            unset($client);
        }
        gc_collect_cycles();
        $rssGrowth = self::rss() - $rss;
        $phpGrowth = memory_get_usage() - $php;
        // A leaked handle (parsed key, config, transport) is about 7 KiB:
        // 1000 of them would add ~7 MiB.
        self::assertLessThan(2 * 1024 * 1024, $rssGrowth, sprintf('RSS grew by %d KiB over 1000 clients', $rssGrowth / 1024));
        self::assertLessThan(64 * 1024, $phpGrowth, sprintf('PHP memory grew by %d bytes', $phpGrowth));
    }

    public function testAFreedClientFailsCleanly(): void
    {
        $client = new TokenClient(self::config());
        $client->getToken();
        $client->__destruct();
        $client->__destruct(); // idempotent
        try {
            $client->getToken();
            self::fail('expected InvalidArgumentException');
        } catch (InvalidArgumentException $e) {
            self::assertStringContainsString('client', $e->getMessage());
        }
    }

    public function testTheClientKeepsNoSecretInItsProperties(): void
    {
        $config = self::config([], 'klikoo');
        unset($config['private_key_file']);
        $config['private_key'] = Sandbox::privateKey();
        $client = new TokenClient($config);
        $client->getToken();
        // (array) shows private properties, bypassing __debugInfo(): the config
        // JSON is not kept, the library holds the key.
        $properties = print_r((array) $client, true);
        self::assertStringNotContainsString((string) $config['client_secret'], $properties);
        foreach (Keys::fragments($config['private_key']) as $fragment) {
            self::assertStringNotContainsString($fragment, $properties);
        }
    }

    public function testCachedCallsAreFast(): void
    {
        $client = new TokenClient(self::config());
        $client->getToken();
        $calls = 0;
        $start = microtime(true);
        do {
            for ($i = 0; $i < 1000; $i++) {
                $token = $client->getToken();
            }
            $calls += 1000;
            $elapsed = microtime(true) - $start;
        } while ($elapsed < 0.25);
        self::assertTrue($token->isCached());
        // The benchmark target is 20,000/s; the check leaves room for a busy
        // machine and coverage drivers.
        self::assertGreaterThan(5000, $calls / $elapsed, sprintf('%.0f getToken()/s', $calls / $elapsed));
    }

    public function testTokenFromJsonReadsCached(): void
    {
        $json = '{"provider":"snap","access_token":"0123456789abcdefXYZ","token_type":"Bearer","expires_in":900,'
            . '"expires_at":2000000000,"response_code":"2007300","response_message":"Successful","cached":true}';
        $token = Token::fromJson($json);
        self::assertTrue($token->isCached());
        self::assertArrayNotHasKey('cached', $token->toArray());
        self::assertStringContainsString('[cached] => 1', print_r($token, true));
        self::assertFalse(Token::fromJson(str_replace(',"cached":true', '', $json))->isCached());
        self::assertFalse((new Token('snap', 'x', 'Bearer', 900, 0))->isCached());
    }

    /** @param array<string, mixed> $config */
    private function writeConfig(string $name, array $config): string
    {
        $path = $this->dir() . "/config-$name.json";
        file_put_contents($path, json_encode($config, JSON_UNESCAPED_SLASHES));
        return $path;
    }

    /**
     * Starts every command, waits until each has its client ready, then
     * releases them all at once (a line on their stdin) so their getToken()
     * calls overlap.
     *
     * @param list<list<string>> $commands
     *
     * @return list<array{0: int, 1: string}> exit code and output of each
     */
    private static function runTogether(array $commands, string $configPath): array
    {
        $env = getenv();
        $env['SNAPB2B_TEST_CONFIG'] = $configPath;
        $env['SNAPB2B_TEST_BARRIER'] = '1';
        $running = [];
        foreach ($commands as $command) {
            $process = proc_open($command, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['redirect', 1]], $pipes, null, $env);
            self::assertIsResource($process);
            $running[] = [$process, $pipes[0], $pipes[1]];
        }
        $early = [];
        foreach ($running as $i => [, , $stdout]) {
            $line = fgets($stdout);
            $early[$i] = $line === "ready\n" ? '' : (string) $line; // anything else is an early failure
        }
        foreach ($running as [, $stdin]) {
            fwrite($stdin, "go\n");
        }
        $results = [];
        foreach ($running as $i => [$process, $stdin, $stdout]) {
            fclose($stdin);
            $output = $early[$i] . stream_get_contents($stdout);
            fclose($stdout);
            $results[] = [proc_close($process), $output];
        }
        return $results;
    }

    /**
     * @param list<list<string>> $commands
     *
     * @return list<array{0: int, 1: string}>
     */
    private static function runOneByOne(array $commands, string $configPath): array
    {
        $results = [];
        foreach ($commands as $command) {
            [$code, $out, $err] = Php::run($command, ['SNAPB2B_TEST_CONFIG' => $configPath, 'SNAPB2B_TEST_BARRIER' => null]);
            $results[] = [$code, $out . $err];
        }
        return $results;
    }

    /** @param list<array{0: int, 1: string}> $results */
    private static function assertOneTokenForAll(array $results, string $phase): void
    {
        $tokens = [];
        $fetched = 0;
        foreach ($results as $i => [$code, $output]) {
            self::assertSame(0, $code, "$phase: process $i: $output");
            $line = json_decode(trim($output), true);
            self::assertIsArray($line, "$phase: process $i printed: $output");
            $tokens[$line['token']] = true;
            $fetched += $line['cached'] ? 0 : 1;
        }
        self::assertCount(1, $tokens, "$phase: every process printed the same token");
        self::assertSame(1, $fetched, "$phase: exactly one process made the request");
    }

    private static function rss(): int
    {
        $statm = explode(' ', (string) file_get_contents('/proc/self/statm'));
        return (int) $statm[1] * 4096;
    }
}
