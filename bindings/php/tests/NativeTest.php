<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\Native;
use SnapB2B\Tests\Support\Paths;
use SnapB2B\Tests\Support\Php;

/**
 * Loading the library: FFI settings, the lookup order, the version check and
 * preloading. Each case runs in a fresh PHP process.
 */
final class NativeTest extends TestCase
{
    private const PROBE = '
        try {
            echo SnapB2B\Native::source(), "\n", SnapB2B\Native::version(), "\n";
            echo strlen(SnapB2B\Signer::sign(SnapB2B\Tests\Support\Keys::generate(2048), "C", "T")), "\n";
        } catch (Throwable $e) {
            echo get_class($e), ": ", $e->getMessage(), "\n";
            exit(3);
        }';

    /** @var list<string> */
    private array $cleanup = [];

    protected function tearDown(): void
    {
        foreach ($this->cleanup as $path) {
            Paths::removeTree($path);
        }
    }

    private static function probe(): string
    {
        return 'require ' . var_export(Paths::packageDir() . '/tests/Support/Keys.php', true) . ';' . self::PROBE;
    }

    public function testCliDefaultPreloadModeAllowsFfi(): void
    {
        // Debian's php.ini leaves ffi.enable at its default, "preload", which
        // permits the FFI API in every CLI script: no -d ffi.enable=1 needed.
        [$code, $out, $err] = Php::snippet(self::probe(), ['-d', 'ffi.enable=preload']);
        self::assertSame(0, $code, $out . $err);
        $lines = explode("\n", trim($out));
        $expected = self::systemHasLibrary() ? Native::SONAME : realpath(self::repoLibrary());
        self::assertSame($expected, realpath($lines[0]) ?: $lines[0]);
        self::assertSame('344', $lines[2], 'a base64 RSA-2048 signature');
    }

    public function testDisabledFfiSaysWhatToEnable(): void
    {
        [$code, $out] = Php::snippet(self::probe(), ['-d', 'ffi.enable=0']);
        self::assertSame(3, $code, $out);
        self::assertStringContainsString('SnapB2B\LibraryException', $out);
        self::assertStringContainsString('ffi.enable=true', $out);
        self::assertStringContainsString('ffi.enable=preload', $out);
        self::assertStringContainsString('opcache.preload=' . Paths::packageDir() . '/preload.php', $out);
    }

    public function testMissingExtensionSaysWhatToEnable(): void
    {
        [, $modules] = Php::run([PHP_BINARY, '-n', '-m']);
        if (stripos($modules, "\nFFI\n") !== false) {
            self::markTestSkipped('FFI is compiled into this PHP: it cannot be missing');
        }
        [$code, $out] = Php::snippet(self::PROBE, ['-n']);
        self::assertSame(3, $code, $out);
        self::assertStringContainsString('extension=ffi', $out);
        self::assertStringContainsString('ffi.enable=true', $out);
    }

    public function testSnapb2bLibEnvironmentVariableComesFirst(): void
    {
        $dir = Paths::tempDir('snapb2b-php-lib');
        $this->cleanup[] = $dir;
        $link = $dir . '/libsnapb2b-custom.so';
        symlink(self::repoLibrary(), $link);
        [$code, $out] = Php::snippet(self::probe(), ['-d', 'ffi.enable=1'], ['SNAPB2B_LIB' => $link]);
        self::assertSame(0, $code, $out);
        self::assertSame($link, explode("\n", $out)[0]);
    }

    /** The checkout's build, which these tests run from. */
    private static function repoLibrary(): string
    {
        return Paths::repoRoot() . '/target/release/libsnapb2b.so';
    }

    private static function systemHasLibrary(): bool
    {
        [$code] = Php::run([PHP_BINARY, '-d', 'ffi.enable=1', '-r', 'FFI::cdef("", "libsnapb2b.so.0");'], ['LD_LIBRARY_PATH' => null]);
        return $code === 0;
    }

    /**
     * A copy of the package at $root/bindings/php beside a real library in
     * $root/target/release; a source checkout only when $checkout (with
     * Cargo.toml and crates/snapb2b-ffi). Returns the copy's autoload.php.
     */
    private function copyPackage(string $root, bool $checkout): string
    {
        $package = $root . '/bindings/php';
        mkdir($package . '/src', 0700, true);
        copy(Paths::packageDir() . '/autoload.php', $package . '/autoload.php');
        copy(Paths::packageDir() . '/snapb2b_ffi.h', $package . '/snapb2b_ffi.h');
        foreach (glob(Paths::packageDir() . '/src/*.php') ?: [] as $file) {
            copy($file, $package . '/src/' . basename($file));
        }
        mkdir($root . '/target/release', 0700, true);
        copy(self::repoLibrary(), $root . '/target/release/libsnapb2b.so');
        if ($checkout) {
            file_put_contents($root . '/Cargo.toml', "[workspace]\n");
            mkdir($root . '/crates/snapb2b-ffi', 0700, true);
        }
        return $package . '/autoload.php';
    }

    /** @return array{0: int, 1: string} */
    private static function probeCopy(string $autoload, ?string $lib = null): array
    {
        [$code, $out] = Php::snippet(self::probe(), ['-d', 'ffi.enable=1'], ['SNAPB2B_LIB' => $lib, 'LD_LIBRARY_PATH' => null], $autoload);
        return [$code, $out];
    }

    public function testAnInstalledCopyNeverLoadsASourceTreeBuild(): void
    {
        // target/release/libsnapb2b.so is right there, but this is no checkout.
        $dir = Paths::tempDir('snapb2b-php-copy');
        $this->cleanup[] = $dir;
        $autoload = $this->copyPackage($dir, false);
        [$code, $out] = self::probeCopy($autoload);
        self::assertStringNotContainsString('target/release', $out);
        if (self::systemHasLibrary()) {
            self::assertSame(0, $code, $out);
            self::assertSame(Native::SONAME, explode("\n", $out)[0]);
            return;
        }
        self::assertSame(3, $code, $out);
        self::assertStringContainsString('SnapB2B\LibraryException', $out);
        self::assertStringContainsString(
            "Tried, in order:\n  - package library " . $dir . "/bindings/php/lib/libsnapb2b.so: no such file\n"
            . '  - system loader (libsnapb2b.so.0): ',
            $out
        );
    }

    public function testTheCheckoutBuildIsTheLastResort(): void
    {
        $dir = Paths::tempDir('snapb2b-php-checkout');
        $this->cleanup[] = $dir;
        [$code, $out] = self::probeCopy($this->copyPackage($dir, true));
        self::assertSame(0, $code, $out);
        $expected = self::systemHasLibrary() ? Native::SONAME : $dir . '/target/release/libsnapb2b.so';
        self::assertSame($expected, explode("\n", $out)[0]);
    }

    public function testThePackagedLibraryComesBeforeTheSystemAndTheCheckout(): void
    {
        $dir = Paths::tempDir('snapb2b-php-packaged');
        $this->cleanup[] = $dir;
        $autoload = $this->copyPackage($dir, true);
        mkdir($dir . '/bindings/php/lib');
        copy(self::repoLibrary(), $dir . '/bindings/php/lib/libsnapb2b.so');
        [$code, $out] = self::probeCopy($autoload);
        self::assertSame(0, $code, $out);
        self::assertSame($dir . '/bindings/php/lib/libsnapb2b.so', explode("\n", $out)[0]);
        // ... and $SNAPB2B_LIB before all of them.
        [$code, $out] = self::probeCopy($autoload, $dir . '/target/release/libsnapb2b.so');
        self::assertSame(0, $code, $out);
        self::assertSame($dir . '/target/release/libsnapb2b.so', explode("\n", $out)[0]);
    }

    /** @return array<string, array{0: string, 1: string}> */
    public static function brokenLibraries(): array
    {
        return [
            'missing file' => ['', 'no such file'],
            'not a library' => [str_repeat("not an ELF file\n", 16), "Failed loading '%s' (not an ELF shared library)"],
        ];
    }

    /**
     * A usable library is right there (the repository build), yet an
     * unusable $SNAPB2B_LIB is an error naming it, not a fallback.
     *
     * @dataProvider brokenLibraries
     */
    public function testBrokenSnapb2bLibIsAnErrorNotAFallback(string $contents, string $reason): void
    {
        self::assertFileExists(self::repoLibrary());
        $dir = Paths::tempDir('snapb2b-php-broken');
        $this->cleanup[] = $dir;
        $broken = $dir . '/libsnapb2b.so';
        if ($contents !== '') {
            file_put_contents($broken, $contents);
        }
        [$code, $out] = Php::snippet(self::probe(), ['-d', 'ffi.enable=1'], ['SNAPB2B_LIB' => $broken]);
        self::assertSame(3, $code, $out);
        self::assertStringStartsWith(
            'SnapB2B\LibraryException: snapb2b cannot load the library SNAPB2B_LIB names: ' . $broken . ': ' . sprintf($reason, $broken) . '. ',
            $out
        );
    }

    public function testPreloadHeaderRefusesAMissingSnapb2bLib(): void
    {
        $missing = Paths::tempDir('snapb2b-php-broken') . '/nowhere/libsnapb2b.so';
        $this->cleanup[] = dirname($missing, 2);
        [$code, $header, $err] = Php::run(
            [PHP_BINARY, Paths::packageDir() . '/preload.php', '--write-header', '-'],
            ['SNAPB2B_LIB' => $missing]
        );
        self::assertSame(1, $code, $header);
        self::assertSame('', $header, 'no header naming another library');
        self::assertStringContainsString('SNAPB2B_LIB names: ' . $missing . ': no such file', $err);
    }

    public function testALibraryOfAnotherMajorVersionIsRefused(): void
    {
        $cc = null;
        foreach (['cc', 'gcc', 'clang'] as $name) {
            [$found, $where] = Php::run(['sh', '-c', 'command -v ' . $name]);
            if ($found === 0) {
                $cc = trim($where);
                break;
            }
        }
        if ($cc === null) {
            self::markTestSkipped('no C compiler to build a stand-in library');
        }
        $dir = Paths::tempDir('snapb2b-php-fake');
        $this->cleanup[] = $dir;
        // Every function of the header, doing nothing, except b2b_version() = "1.0.0".
        $stubs = preg_replace_callback(
            '/^([A-Za-z_][^;{}()]*?\b)(\w+)\(([^;]*?)\);/ms',
            static function (array $m): string {
                if ($m[2] === 'b2b_version') {
                    return $m[0] . "\n" . $m[1] . $m[2] . '(void) { return "1.0.0"; }';
                }
                $body = trim($m[1]) === 'void' ? '{ }' : '{ return 0; }';
                return $m[0] . "\n" . $m[1] . $m[2] . '(' . $m[3] . ') ' . $body;
            },
            (string) file_get_contents(Native::headerPath())
        );
        self::assertStringContainsString('"1.0.0"', (string) $stubs);
        file_put_contents($dir . '/fake.c', $stubs);
        [$built, , $err] = Php::run([$cc, '-shared', '-fPIC', '-o', $dir . '/libfake.so', $dir . '/fake.c']);
        self::assertSame(0, $built, $err);
        // Refused with the reason, although the repository build would load.
        [$code, $out] = Php::snippet(self::probe(), ['-d', 'ffi.enable=1'], ['SNAPB2B_LIB' => $dir . '/libfake.so']);
        self::assertSame(3, $code, $out);
        self::assertStringContainsString(
            'SNAPB2B_LIB names: ' . $dir . '/libfake.so: version 1.0.0, but this binding needs 0.x',
            $out
        );
    }

    public function testWriteHeaderForFfiPreload(): void
    {
        [$code, $header, $err] = Php::run([PHP_BINARY, Paths::packageDir() . '/preload.php', '--write-header', '-', '--lib', '/opt/lib/libsnapb2b.so.0']);
        self::assertSame(0, $code, $err);
        $lines = explode("\n", $header);
        self::assertSame('#define FFI_SCOPE "snapb2b"', $lines[0]);
        self::assertSame('#define FFI_LIB "/opt/lib/libsnapb2b.so.0"', $lines[1]);
        self::assertStringEndsWith((string) file_get_contents(Native::headerPath()), $header);
        self::assertStringNotContainsString('#', (string) file_get_contents(Native::headerPath()), 'the generated header stays preprocessor-free');
    }

    /** The root setup: header via ffi.preload, classes via opcache.preload (with preload_user). */
    public function testFfiPreloadPlusOpcachePreloadUsesTheScope(): void
    {
        $dir = Paths::tempDir('snapb2b-php-preload');
        $this->cleanup[] = $dir;
        [$code, , $err] = Php::run([PHP_BINARY, Paths::packageDir() . '/preload.php', '--write-header', $dir . '/snapb2b.h']);
        self::assertSame(0, $code, $err);
        $user = function_exists('posix_getpwuid') ? (posix_getpwuid(posix_geteuid())['name'] ?? 'root') : (string) get_current_user();
        [$code, $out, $err] = Php::snippet(self::probe(), [
            '-d', 'ffi.enable=preload',
            '-d', 'ffi.preload=' . $dir . '/snapb2b.h',
            '-d', 'opcache.enable=1',
            '-d', 'opcache.enable_cli=1',
            '-d', 'opcache.preload=' . Paths::packageDir() . '/preload.php',
            '-d', 'opcache.preload_user=' . $user,
        ]);
        self::assertSame(0, $code, $out . $err);
        self::assertSame("FFI::scope('snapb2b')", explode("\n", $out)[0]);
        self::assertSame('', trim($err));
    }

    /**
     * The non-root setup: preload.php alone (FFI::load while preloading).
     * As root, run as `nobody` through runuser when possible.
     */
    public function testOpcachePreloadAloneUsesTheScopeWhenNotRoot(): void
    {
        $prefix = [];
        if (function_exists('posix_geteuid') && posix_geteuid() === 0) {
            [$hasRunuser] = Php::run(['sh', '-c', 'command -v runuser && id nobody']);
            if ($hasRunuser !== 0) {
                self::markTestSkipped('running as root without runuser/nobody: PHP would preload in a preload_user child, '
                    . 'where FFI::load() is refused (the ffi.preload setup is tested instead)');
            }
            $prefix = ['runuser', '-u', 'nobody', '--'];
        }
        $script = 'require ' . var_export(Paths::packageDir() . '/autoload.php', true) . ';' . self::probe();
        [$code, $out, $err] = Php::run(array_merge($prefix, [PHP_BINARY,
            '-d', 'ffi.enable=preload',
            '-d', 'opcache.enable=1',
            '-d', 'opcache.enable_cli=1',
            '-d', 'opcache.preload=' . Paths::packageDir() . '/preload.php',
            '-r', $script,
        ]), [], sys_get_temp_dir());
        self::assertSame(0, $code, $out . $err);
        self::assertSame("FFI::scope('snapb2b')", explode("\n", $out)[0]);
        self::assertSame('', trim($err));
    }

    /**
     * ffi.enable=preload outside the CLI (php-cgi stands in for PHP-FPM): FFI
     * only in preloaded code.
     */
    public function testNonCliSapiWithPreloadMode(): void
    {
        $cgi = Php::cgiBinary();
        if ($cgi === null) {
            self::markTestSkipped('php-cgi is not installed (apt-get install php' . PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION . '-cgi)');
        }
        $dir = Paths::tempDir('snapb2b-php-cgi');
        $this->cleanup[] = $dir;
        $script = $dir . '/probe.php';
        file_put_contents($script, '<?php require ' . var_export(Paths::packageDir() . '/autoload.php', true) . ';' . self::probe());

        // Nothing preloaded: refused, with the fix in the message.
        [$code, $out] = Php::run([$cgi, '-q', '-d', 'ffi.enable=preload', $script]);
        self::assertStringContainsString('not preloaded in this cgi-fcgi process', $out);
        self::assertStringContainsString('opcache.preload=' . Paths::packageDir() . '/preload.php', $out);

        // Header via ffi.preload and classes via opcache.preload: works.
        [$code, , $err] = Php::run([PHP_BINARY, Paths::packageDir() . '/preload.php', '--write-header', $dir . '/snapb2b.h']);
        self::assertSame(0, $code, $err);
        $user = function_exists('posix_getpwuid') ? (posix_getpwuid(posix_geteuid())['name'] ?? 'root') : 'root';
        [$code, $out, $err] = Php::run([$cgi, '-q',
            '-d', 'ffi.enable=preload',
            '-d', 'ffi.preload=' . $dir . '/snapb2b.h',
            '-d', 'opcache.enable=1',
            '-d', 'opcache.preload=' . Paths::packageDir() . '/preload.php',
            '-d', 'opcache.preload_user=' . $user,
            $script,
        ]);
        $lines = explode("\n", trim($out));
        self::assertSame("FFI::scope('snapb2b')", $lines[0], $out . $err);
        self::assertSame('344', $lines[2] ?? null, $out . $err);
    }
}
