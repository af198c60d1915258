<?php

declare(strict_types=1);

namespace SnapB2B\Tests\Support;

final class Paths
{
    /** bindings/php */
    public static function packageDir(): string
    {
        return dirname(__DIR__, 2);
    }

    /** The repository root (holding Cargo.toml and target/). */
    public static function repoRoot(): string
    {
        return dirname(__DIR__, 4);
    }

    /** The public test vectors, or null: $SNAPB2B_VECTORS, else the copy in tests/vectors/. */
    public static function vectorsDir(): ?string
    {
        $env = getenv('SNAPB2B_VECTORS');
        $candidates = is_string($env) && $env !== '' ? [$env] : [];
        $candidates[] = self::repoRoot() . '/tests/vectors';
        foreach ($candidates as $dir) {
            if (is_file($dir . '/snap-vectors.json')) {
                return $dir;
            }
        }
        return null;
    }

    public static function tempDir(string $prefix): string
    {
        $dir = sys_get_temp_dir() . '/' . $prefix . '-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir($dir, 0700, true);
        return $dir;
    }

    public static function removeTree(string $path): void
    {
        if (is_link($path) || is_file($path)) {
            @unlink($path);
            return;
        }
        if (!is_dir($path)) {
            return;
        }
        foreach (scandir($path) ?: [] as $entry) {
            if ($entry !== '.' && $entry !== '..') {
                self::removeTree($path . '/' . $entry);
            }
        }
        @rmdir($path);
    }
}
