<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * Status 1 (INVALID_ARGUMENT): a bad argument or config: unknown or missing config key, malformed JSON,
 * unknown provider, plain http:// without allow_http, invalid UTF-8, or a PHP
 * string containing a NUL byte (detected by this binding).
 */
class InvalidArgumentException extends SnapException
{
    protected const DEFAULT_STATUS = Status::INVALID_ARGUMENT;
}
