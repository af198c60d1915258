<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * Status 4 (TRANSPORT): DNS, connect, TLS or certificate failure, or the connection dropped.
 */
class TransportException extends SnapException
{
    protected const DEFAULT_STATUS = Status::TRANSPORT;
}
