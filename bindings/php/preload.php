<?php

/*
 * Preloading for production PHP-FPM (see README.md, "Production: PHP-FPM").
 *
 *   ; php.ini (FPM)
 *   ffi.enable=preload
 *   opcache.enable=1
 *   opcache.preload=/path/to/snapb2b/bindings/php/preload.php
 *   ;opcache.preload_user=www-data   ; only when FPM starts as root: see below
 *
 * At server start this script
 *   1. loads the FFI declarations into the persistent scope "snapb2b"
 *      (FFI::load of snapb2b_ffi.h with `#define FFI_SCOPE "snapb2b"` and
 *      `#define FFI_LIB "<library>"` prepended, written to a private temp
 *      file that is removed right after), unless ffi.preload already did;
 *   2. compiles every SnapB2B class into the preloaded code. With
 *      ffi.enable=preload, PHP allows the FFI API outside the CLI only to
 *      preloaded functions, so the binding itself has to be preloaded.
 * Each request then gets its \FFI from FFI::scope('snapb2b'): no header
 * parsing and no dlopen() per request.
 *
 * The library is the one the binding's lookup loads (README.md, "Which
 * library is loaded"). A $SNAPB2B_LIB that does not load is an error, never
 * a reason to use another.
 *
 * When FPM starts as root with opcache.preload_user, PHP preloads in a child
 * process and FFI::load() refuses to work there. Then write the header once
 * and let the FFI extension load it instead:
 *
 *   php bindings/php/preload.php --write-header /etc/php/snapb2b_ffi.h [--lib /usr/local/lib/libsnapb2b.so.0]
 *   ; php.ini: ffi.preload=/etc/php/snapb2b_ffi.h   (keep opcache.preload=.../preload.php for the classes)
 */

declare(strict_types=1);

require_once __DIR__ . '/autoload.php';

/**
 * The FFI::load()-able header: the generated declarations with the two
 * directives FFI::load() reads first.
 */
function snapb2b_preload_header(string $library): string
{
    if (strpbrk($library, "\"\\\n\r\0") !== false) {
        throw new \SnapB2B\LibraryException('snapb2b preload: the library path must not contain quotes, backslashes or newlines');
    }
    $declarations = file_get_contents(\SnapB2B\Native::headerPath());
    if ($declarations === false) {
        throw new \SnapB2B\LibraryException('snapb2b preload: cannot read ' . \SnapB2B\Native::headerPath());
    }
    return '#define FFI_SCOPE "' . \SnapB2B\Native::SCOPE . "\"\n"
        . '#define FFI_LIB "' . $library . "\"\n"
        . $declarations;
}

/**
 * The library FFI_LIB names: the one Native's lookup loads (a real path, or
 * the soname).
 *
 * @throws \SnapB2B\LibraryException when none loads; a $SNAPB2B_LIB that does not
 *                                   load is an error, never a reason to use another
 */
function snapb2b_preload_library(): string
{
    $library = \SnapB2B\Native::locateLibrary();
    $real = strpos($library, '/') !== false ? realpath($library) : false;
    return $real !== false ? $real : $library;
}

// Command line: php preload.php --write-header FILE [--lib LIBRARY]
if (PHP_SAPI === 'cli' && isset($_SERVER['SCRIPT_FILENAME']) && realpath($_SERVER['SCRIPT_FILENAME']) === __FILE__) {
    $args = array_slice($_SERVER['argv'], 1);
    $out = null;
    $library = null;
    for ($i = 0; $i < count($args); $i++) {
        if ($args[$i] === '--write-header' && isset($args[$i + 1])) {
            $out = $args[++$i];
        } elseif ($args[$i] === '--lib' && isset($args[$i + 1])) {
            $library = $args[++$i];
        } else {
            fwrite(STDERR, "usage: php preload.php --write-header FILE [--lib LIBRARY]\n"
                . "  writes snapb2b_ffi.h with FFI_SCOPE \"snapb2b\" and FFI_LIB for ffi.preload\n");
            exit(2);
        }
    }
    if ($out === null) {
        fwrite(STDERR, "usage: php preload.php --write-header FILE [--lib LIBRARY]\n");
        exit(2);
    }
    try {
        $header = snapb2b_preload_header($library ?? snapb2b_preload_library());
    } catch (\SnapB2B\LibraryException $e) {
        fwrite(STDERR, 'error: ' . $e->getMessage() . "\n");
        exit(1);
    }
    if ($out === '-') {
        echo $header;
    } elseif (file_put_contents($out, $header) === false) {
        fwrite(STDERR, "error: cannot write $out\n");
        exit(1);
    }
    exit(0);
}

(static function (): void {
    if (!extension_loaded('ffi')) {
        trigger_error('snapb2b preload: the FFI extension is not loaded (extension=ffi)', E_USER_WARNING);
        return;
    }

    // 1. The FFI scope, unless ffi.preload already defined it.
    $scoped = false;
    try {
        \FFI::scope(\SnapB2B\Native::SCOPE);
        $scoped = true;
    } catch (\FFI\Exception $e) {
    }
    $library = null;
    if (!$scoped) {
        try {
            $library = snapb2b_preload_library();
        } catch (\SnapB2B\LibraryException $e) {
            // No scope then: each request's first call throws the same reason.
            trigger_error($e->getMessage(), E_USER_WARNING);
        }
    }
    if ($library !== null) {
        $file = tempnam(sys_get_temp_dir(), 'snapb2b-ffi-'); // mode 0600, ours alone
        if ($file === false) {
            trigger_error('snapb2b preload: cannot create a temporary file in ' . sys_get_temp_dir(), E_USER_WARNING);
        } else {
            try {
                file_put_contents($file, snapb2b_preload_header($library));
                // Warns (does not throw) on failure while preloading.
                $ffi = \FFI::load($file);
                if ($ffi === null) {
                    trigger_error(sprintf('snapb2b preload: FFI::load failed for library %s', $library), E_USER_WARNING);
                }
            } catch (\Throwable $e) {
                trigger_error('snapb2b preload: ' . $e->getMessage(), E_USER_WARNING);
            } finally {
                @unlink($file);
            }
        }
    }

    // 2. The binding's classes, parents first (the autoloader sees to that).
    foreach (glob(__DIR__ . '/src/*.php') ?: [] as $path) {
        $class = 'SnapB2B\\' . basename($path, '.php');
        if (!class_exists($class) && !interface_exists($class)) {
            trigger_error('snapb2b preload: ' . $path . ' does not define ' . $class, E_USER_WARNING);
        }
    }
})();
