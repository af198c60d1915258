<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * Status 8 (SIGNATURE_INVALID): a signature did not verify (verification functions).
 */
class SignatureInvalidException extends SnapException
{
    protected const DEFAULT_STATUS = Status::SIGNATURE_INVALID;
}
