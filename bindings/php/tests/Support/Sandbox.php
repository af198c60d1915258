<?php

declare(strict_types=1);

namespace SnapB2B\Tests\Support;

/**
 * The local sandbox provider (target/release/snapb2b-sandbox), started once
 * per PHPUnit run by the bootstrap and stopped when PHP exits.
 *
 * When SNAPB2B_SANDBOX_DIR names a directory holding sandbox.json (as
 * `make test-php`, through scripts/with-sandbox.sh, provides), that sandbox
 * is used and nothing is started.
 */
final class Sandbox
{
    /** Seconds to wait for sandbox.json. */
    private const START_TIMEOUT = 20.0;

    private static ?string $dir = null;

    /** @var array<string, mixed>|null */
    private static ?array $info = null;

    private static ?string $error = null;

    /** @var resource|null */
    private static $process = null;

    private static bool $ownDir = false;

    public static function start(): void
    {
        if (self::$dir !== null || self::$error !== null) {
            return;
        }
        try {
            self::doStart();
        } catch (\Throwable $e) {
            self::$error = $e->getMessage();
        }
    }

    /** The sandbox directory; fails the calling test when the sandbox is not running. */
    public static function dir(): string
    {
        if (self::$dir === null) {
            \PHPUnit\Framework\Assert::fail('the sandbox provider is not available: ' . (self::$error ?? 'not started'));
        }
        return self::$dir;
    }

    /** @return array<string, mixed> sandbox.json */
    public static function info(): array
    {
        self::dir();
        return self::$info;
    }

    /**
     * The ready config of a provider: DIR/config-<provider>.json.
     *
     * @return array<string, mixed>
     */
    public static function config(string $provider): array
    {
        $path = self::configPath($provider);
        $config = json_decode((string) file_get_contents($path), true);
        \PHPUnit\Framework\Assert::assertIsArray($config, "$path is a JSON object");
        return $config;
    }

    public static function configPath(string $provider): string
    {
        return self::dir() . '/config-' . $provider . '.json';
    }

    /** The sandbox's merchant private key (PEM). */
    public static function privateKey(): string
    {
        return (string) file_get_contents((string) self::info()['private_key_file']);
    }

    /**
     * GET /sandbox/stats over HTTPS (PHP streams, verified against the
     * sandbox's ca.pem): `{"connections","requests","token_requests",
     * "tokens_issued","by_path","by_client":{id: n}}`. Control endpoints are
     * not counted, so reading the stats does not change them.
     *
     * @return array<string, mixed>
     */
    public static function stats(): array
    {
        $info = self::info();
        $context = stream_context_create([
            'ssl' => ['cafile' => $info['ca_file'], 'verify_peer' => true, 'verify_peer_name' => true],
            'http' => ['timeout' => 10],
        ]);
        $json = file_get_contents($info['base_url'] . '/sandbox/stats', false, $context);
        \PHPUnit\Framework\Assert::assertIsString($json, 'GET /sandbox/stats');
        $stats = json_decode($json, true);
        \PHPUnit\Framework\Assert::assertIsArray($stats, 'GET /sandbox/stats returns JSON');
        return $stats;
    }

    /** Token requests the sandbox has seen from $clientId so far. */
    public static function tokenRequests(string $clientId): int
    {
        return (int) (self::stats()['by_client'][$clientId] ?? 0);
    }

    private static function doStart(): void
    {
        $given = getenv('SNAPB2B_SANDBOX_DIR');
        if (is_string($given) && $given !== '' && is_file($given . '/sandbox.json')) {
            self::$dir = rtrim($given, '/');
            self::$info = self::readInfo(self::$dir . '/sandbox.json');
            return;
        }

        $bin = getenv('SNAPB2B_SANDBOX_BIN');
        if (!is_string($bin) || $bin === '') {
            $bin = Paths::repoRoot() . '/target/release/snapb2b-sandbox';
        }
        if (!is_file($bin) || !is_executable($bin)) {
            throw new \RuntimeException("$bin is not built (run `cargo build --release`)");
        }

        $dir = sys_get_temp_dir() . '/snapb2b-php-sandbox-' . getmypid() . '-' . bin2hex(random_bytes(4));
        if (!mkdir($dir, 0700)) {
            throw new \RuntimeException("cannot create $dir");
        }
        self::$ownDir = true;
        $log = $dir . '/sandbox.log';
        $cmd = [$bin, '--dir', $dir, '--port', '0', '--max-seconds', '600', '--quiet', '--slow-ms', '3000'];
        $process = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']], $pipes);
        if (!is_resource($process)) {
            throw new \RuntimeException("cannot start $bin");
        }
        self::$process = $process;
        register_shutdown_function([self::class, 'stop']);

        $deadline = microtime(true) + self::START_TIMEOUT;
        $json = $dir . '/sandbox.json';
        while (!is_file($json)) {
            $status = proc_get_status($process);
            if (!$status['running']) {
                throw new \RuntimeException(sprintf(
                    'the sandbox exited early (code %d): %s',
                    $status['exitcode'],
                    trim((string) @file_get_contents($log))
                ));
            }
            if (microtime(true) > $deadline) {
                throw new \RuntimeException(sprintf('the sandbox did not write sandbox.json within %.0f s', self::START_TIMEOUT));
            }
            usleep(50000);
        }
        self::$dir = $dir;
        self::$info = self::readInfo($json);
    }

    /** @return array<string, mixed> */
    private static function readInfo(string $path): array
    {
        $info = json_decode((string) file_get_contents($path), true);
        if (!is_array($info) || !isset($info['base_url'], $info['private_key_file'], $info['ca_file'])) {
            throw new \RuntimeException("$path is not the expected sandbox.json");
        }
        return $info;
    }

    /** Stops the sandbox started here (SIGTERM) and removes its directory. */
    public static function stop(): void
    {
        if (self::$process !== null) {
            proc_terminate(self::$process);
            $deadline = microtime(true) + 5.0;
            while (proc_get_status(self::$process)['running'] && microtime(true) < $deadline) {
                usleep(20000);
            }
            if (proc_get_status(self::$process)['running']) {
                proc_terminate(self::$process, 9);
            }
            proc_close(self::$process);
            self::$process = null;
        }
        if (self::$ownDir && self::$dir !== null) {
            Paths::removeTree(self::$dir);
            self::$ownDir = false;
        }
    }
}
