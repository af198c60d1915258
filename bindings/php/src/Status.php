<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * The status codes of the C library (`b2b_status` in snapb2b.h).
 *
 * The values are fixed forever; new codes may be added. Every status other
 * than OK has its own exception class (see {@see SnapException::fromStatus()});
 * names come from the library (name()).
 */
final class Status
{
    public const OK = 0;
    public const INVALID_ARGUMENT = 1;
    public const KEY = 2;
    public const CRYPTO = 3;
    public const TRANSPORT = 4;
    public const TIMEOUT = 5;
    public const PROVIDER = 6;
    public const PROTOCOL = 7;
    public const SIGNATURE_INVALID = 8;
    public const INTERNAL = 99;

    private function __construct()
    {
    }

    /**
     * The name of a status code ("KEY", "TIMEOUT", ...; "UNKNOWN" for a code
     * the library does not know): the library's b2b_status_name().
     *
     * @throws LibraryException the native library is unavailable
     */
    public static function name(int $status): string
    {
        return Native::statusName($status);
    }

    /**
     * All known codes, constant name => code.
     *
     * @return array<string, int>
     */
    public static function all(): array
    {
        return (new \ReflectionClass(self::class))->getConstants();
    }
}
