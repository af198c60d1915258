<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * Status 5 (TIMEOUT): no complete answer within timeout_ms.
 */
class TimeoutException extends SnapException
{
    protected const DEFAULT_STATUS = Status::TIMEOUT;
}
