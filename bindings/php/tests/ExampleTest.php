<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\Status;
use SnapB2B\Tests\Support\Paths;
use SnapB2B\Tests\Support\Php;
use SnapB2B\Tests\Support\Sandbox;

/** examples/get_token.php, run as a user would. */
final class ExampleTest extends TestCase
{
    private static function example(): string
    {
        return Paths::repoRoot() . '/examples/get_token.php';
    }

    public function testPrintsAMaskedToken(): void
    {
        [$code, $out, $err] = Php::run([PHP_BINARY, '-d', 'ffi.enable=1', self::example(), Sandbox::configPath('nicepay')]);
        self::assertSame(0, $code, $out . $err);
        self::assertSame('', $err);
        self::assertMatchesRegularExpression('/^provider: +nicepay$/m', $out);
        self::assertMatchesRegularExpression('/^token: +[\x21-\x7e]{6}\.\.\.[\x21-\x7e]{4} \(Bearer\)$/m', $out);
        self::assertMatchesRegularExpression('/^expires at: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in (89\d|900) s\)$/m', $out);
        // Nothing token-sized is printed.
        self::assertDoesNotMatchRegularExpression('/[A-Za-z0-9_\-]{24,}/', $out);
    }

    public function testConfigFromTheEnvironment(): void
    {
        [$code, $out, $err] = Php::run([PHP_BINARY, '-d', 'ffi.enable=1', self::example()], ['SNAPB2B_CONFIG' => Sandbox::configPath('snap')]);
        self::assertSame(0, $code, $out . $err);
        self::assertMatchesRegularExpression('/^provider: +snap$/m', $out);
    }

    public function testCacheFileFromTheEnvironmentIsReusedByTheNextRun(): void
    {
        $dir = Paths::tempDir('snapb2b-php-example');
        try {
            $cacheFile = $dir . '/token.json';
            $env = ['SNAPB2B_CACHE_FILE' => $cacheFile];
            [$code, $first, $err] = Php::run([PHP_BINARY, '-d', 'ffi.enable=1', self::example(), Sandbox::configPath('doku')], $env);
            self::assertSame(0, $code, $first . $err);
            self::assertMatchesRegularExpression('/^cached: +no \(requested now/m', $first);
            self::assertFileExists($cacheFile);
            self::assertSame(0600, fileperms($cacheFile) & 0777);

            [$code, $second, $err] = Php::run([PHP_BINARY, '-d', 'ffi.enable=1', self::example(), Sandbox::configPath('doku')], $env);
            self::assertSame(0, $code, $second . $err);
            self::assertMatchesRegularExpression('/^cached: +yes/m', $second);
            preg_match('/^token: .*$/m', $first, $a);
            preg_match('/^token: .*$/m', $second, $b);
            self::assertSame($a, $b, 'the same token');
            self::assertDoesNotMatchRegularExpression('/[A-Za-z0-9_\-]{24,}/', $second);
        } finally {
            Paths::removeTree($dir);
        }
        [, $without] = Php::run([PHP_BINARY, '-d', 'ffi.enable=1', self::example(), Sandbox::configPath('doku')], ['SNAPB2B_CACHE_FILE' => null]);
        self::assertStringNotContainsString('cached:', $without);
    }

    public function testFailureExitsWithTheStatus(): void
    {
        $config = Sandbox::config('doku');
        $config['client_id'] = 'UNKNOWN-CLIENT';
        $dir = Paths::tempDir('snapb2b-php-example');
        try {
            $path = $dir . '/unknown-client.json';
            file_put_contents($path, json_encode($config, JSON_UNESCAPED_SLASHES));
            [$code, $out, $err] = Php::run([PHP_BINARY, '-d', 'ffi.enable=1', self::example(), $path]);
        } finally {
            Paths::removeTree($dir);
        }
        self::assertSame(Status::PROVIDER, $code);
        self::assertSame('', $out);
        self::assertStringStartsWith('error: PROVIDER: ', $err);
        self::assertStringContainsString('4017300', $err);
    }

    public function testUsageWithoutAConfig(): void
    {
        [$code, , $err] = Php::run([PHP_BINARY, '-d', 'ffi.enable=1', self::example()], ['SNAPB2B_CONFIG' => null]);
        self::assertSame(Status::INVALID_ARGUMENT, $code);
        self::assertStringContainsString('usage:', $err);
    }

    public function testUnreadableConfig(): void
    {
        [$code, , $err] = Php::run([PHP_BINARY, '-d', 'ffi.enable=1', self::example(), Sandbox::dir() . '/missing.json']);
        self::assertSame(Status::INVALID_ARGUMENT, $code);
        self::assertStringStartsWith('error: INVALID_ARGUMENT: ', $err);
    }
}
