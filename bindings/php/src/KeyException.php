<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * Status 2 (KEY): the private key is unreadable, encrypted without or with the wrong
 * passphrase, not RSA, under 2048 bits, or a public key.
 */
class KeyException extends SnapException
{
    protected const DEFAULT_STATUS = Status::KEY;
}
