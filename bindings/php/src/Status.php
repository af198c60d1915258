<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * The status codes of the C library (`b2b_status` in snapb2b.h).
 *
 * The values are fixed forever; new codes may be added. Every status other
 * than OK has its own exception class (see {@see SnapException::fromStatus()}).
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

    /** @var array<int, string> the same names as b2b_status_name() */
    private const NAMES = [
        self::OK => 'OK',
        self::INVALID_ARGUMENT => 'INVALID_ARGUMENT',
        self::KEY => 'KEY',
        self::CRYPTO => 'CRYPTO',
        self::TRANSPORT => 'TRANSPORT',
        self::TIMEOUT => 'TIMEOUT',
        self::PROVIDER => 'PROVIDER',
        self::PROTOCOL => 'PROTOCOL',
        self::SIGNATURE_INVALID => 'SIGNATURE_INVALID',
        self::INTERNAL => 'INTERNAL',
    ];

    private function __construct()
    {
    }

    /**
     * The stable name of a status code ("KEY", "TIMEOUT", ...), or "UNKNOWN",
     * exactly as b2b_status_name() spells it. Needs no native library.
     */
    public static function name(int $status): string
    {
        return self::NAMES[$status] ?? 'UNKNOWN';
    }

    /**
     * All known codes, name => code.
     *
     * @return array<string, int>
     */
    public static function all(): array
    {
        return array_flip(self::NAMES);
    }
}
