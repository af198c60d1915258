<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * Status 7 (PROTOCOL): the response is not the documented JSON, lacks the token, or exceeds
 * the 1 MiB limit.
 */
class ProtocolException extends SnapException
{
    protected const DEFAULT_STATUS = Status::PROTOCOL;
}
