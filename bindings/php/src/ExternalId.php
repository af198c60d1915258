<?php

declare(strict_types=1);

namespace SnapB2B;

/** X-EXTERNAL-ID values: the per-call unique id SNAP requires. */
final class ExternalId
{
    private function __construct()
    {
    }

    /**
     * A fresh X-EXTERNAL-ID: 32 decimal digits from the OS's CSPRNG, not
     * starting with 0. TokenClient::headers() and request() make their own;
     * use this to choose one before a call (and retry it under the same id).
     *
     * @throws LibraryException the native library is unavailable
     */
    public static function generate(): string
    {
        return Native::externalId();
    }
}
