<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\Tests\Support\Paths;
use SnapB2B\Tests\Support\Php;

/**
 * The repository as a Composer package (composer.json at its root): installed
 * into an empty project through a `path` repository, and archived without
 * its tests. Offline: Packagist is disabled and COMPOSER_DISABLE_NETWORK set.
 */
final class ComposerTest extends TestCase
{
    private const CLIENT_ID = 'COMPOSER-TEST';
    private const TIMESTAMP = '2024-03-01T15:27:49+07:00';

    private string $dir;

    protected function setUp(): void
    {
        if (Php::which('composer') === null) {
            self::markTestSkipped('composer is not installed (scripts/install-test-deps.sh installs it)');
        }
        $this->dir = Paths::tempDir('snapb2b-composer');
    }

    protected function tearDown(): void
    {
        if (isset($this->dir)) {
            Paths::removeTree($this->dir);
        }
    }

    /**
     * @param list<string> $args
     *
     * @return array{0: int, 1: string, 2: string}
     */
    private function composer(array $args, string $cwd): array
    {
        return Php::run(array_merge(['composer', '--no-interaction', '--no-ansi'], $args), [
            'COMPOSER_HOME' => $this->dir . '/composer-home',
            'COMPOSER_DISABLE_NETWORK' => '1',
            'COMPOSER_ALLOW_SUPERUSER' => '1',
        ], $cwd);
    }

    public function testInstallsFromAPathRepositoryAndSigns(): void
    {
        $project = $this->dir . '/project';
        mkdir($project);
        file_put_contents($project . '/composer.json', json_encode([
            'repositories' => [
                ['type' => 'path', 'url' => Paths::repoRoot()],
                ['packagist.org' => false],
            ],
            'require' => ['snapb2b/snapb2b' => '*@dev'],
        ], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));
        [$code, $out, $err] = $this->composer(['install', '--no-progress'], $project);
        self::assertSame(0, $code, $out . $err);
        self::assertFileExists($project . '/vendor/snapb2b/snapb2b/bindings/php/src/Signer.php');

        // The three lines: Composer's autoloader, then Signer::sign() against openssl_sign().
        file_put_contents($project . '/sign.php', "<?php require __DIR__ . '/vendor/autoload.php';\n"
            . '$key = openssl_pkey_new(["private_key_bits" => 2048]); openssl_pkey_export($key, $pem); openssl_sign("'
            . self::CLIENT_ID . '|' . self::TIMESTAMP . '", $raw, $pem, OPENSSL_ALGO_SHA256);' . "\n"
            . 'exit(SnapB2B\Signer::sign($pem, "' . self::CLIENT_ID . '", "' . self::TIMESTAMP . '") === base64_encode($raw) ? 0 : 1);' . "\n");
        [$code, $out, $err] = Php::run(
            [PHP_BINARY, '-d', 'ffi.enable=1', $project . '/sign.php'],
            ['SNAPB2B_LIB' => Paths::repoRoot() . '/target/release/libsnapb2b.so'],
            $project
        );
        self::assertSame(0, $code, 'signature differs from openssl_sign: ' . $out . $err);
    }

    public function testArchiveHasTheSourcesWithoutTheTests(): void
    {
        [$code, $out, $err] = $this->composer(
            ['archive', '--format=zip', '--dir=' . $this->dir, '--file=snapb2b'],
            Paths::repoRoot()
        );
        self::assertSame(0, $code, $out . $err);
        // PHP's zip extension is often absent; Python's zipfile is not.
        [$code, $list, $err] = Php::run([
            'python3', '-c', 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))',
            $this->dir . '/snapb2b.zip',
        ]);
        self::assertSame(0, $code, $err);
        $files = array_filter(array_map(static fn (string $f): string => rtrim($f, '/'), explode("\n", trim($list))));

        foreach ([
            'composer.json',
            'bindings/php/src/Signer.php',
            'bindings/php/src/Native.php',
            'bindings/php/snapb2b_ffi.h',
            'bindings/php/autoload.php',
            'bindings/php/preload.php',
        ] as $needed) {
            self::assertContains($needed, $files, 'needed at run time');
        }
        foreach ($files as $file) {
            self::assertDoesNotMatchRegularExpression(
                '#(^|/)tests/|^(fuzz|benches|target|build|\.ci)/|^bindings/php/phpunit\.xml$|(^|/)\.git$#',
                $file,
                'a test or development file in the archive'
            );
        }
    }
}
