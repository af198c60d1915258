<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * Status 3 (CRYPTO): OpenSSL failed while signing.
 */
class CryptoException extends SnapException
{
    protected const DEFAULT_STATUS = Status::CRYPTO;
}
