<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * Status 99 (INTERNAL): a bug in snapb2b (a Rust panic caught at the boundary); please report it.
 */
class InternalException extends SnapException
{
    protected const DEFAULT_STATUS = Status::INTERNAL;
}
