<?php

declare(strict_types=1);

namespace SnapB2B\Tests\Support;

/** Runs PHP (or any command) in a child process. */
final class Php
{
    /**
     * @param list<string>               $command
     * @param array<string, string|null> $env     changes to this process's environment (null removes)
     *
     * @return array{0: int, 1: string, 2: string} exit code, stdout, stderr
     */
    public static function run(array $command, array $env = [], ?string $cwd = null): array
    {
        $environment = getenv();
        foreach ($env as $name => $value) {
            if ($value === null) {
                unset($environment[$name]);
            } else {
                $environment[$name] = $value;
            }
        }
        $process = proc_open(
            $command,
            [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes,
            $cwd,
            $environment
        );
        if (!is_resource($process)) {
            throw new \RuntimeException('cannot run ' . implode(' ', $command));
        }
        $stdout = stream_get_contents($pipes[1]);
        $stderr = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $code = proc_close($process);
        return [$code, (string) $stdout, (string) $stderr];
    }

    /**
     * A PHP snippet in a fresh CLI process with the binding's autoloader loaded.
     *
     * @param list<string>               $phpArgs e.g. ['-d', 'ffi.enable=1']
     * @param array<string, string|null> $env
     *
     * @return array{0: int, 1: string, 2: string}
     */
    public static function snippet(string $code, array $phpArgs = [], array $env = [], ?string $autoload = null): array
    {
        $autoload = $autoload ?? Paths::packageDir() . '/autoload.php';
        $script = 'require ' . var_export($autoload, true) . ';' . $code;
        return self::run(array_merge([PHP_BINARY], $phpArgs, ['-r', $script]), $env);
    }

    /** The php-cgi binary (a non-CLI SAPI), or null. */
    public static function cgiBinary(): ?string
    {
        return self::which('php-cgi' . PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION) ?? self::which('php-cgi');
    }

    /** A program's path on $PATH, or null. */
    public static function which(string $name): ?string
    {
        foreach (explode(PATH_SEPARATOR, (string) getenv('PATH')) as $dir) {
            if ($dir !== '' && is_executable($dir . '/' . $name)) {
                return $dir . '/' . $name;
            }
        }
        return null;
    }
}
