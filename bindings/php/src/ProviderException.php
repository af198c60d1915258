<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * Status 6 (PROVIDER): the provider answered with a non-2xx HTTP status or a non-success
 * response code; see getHttpStatus(), getResponseCode(), getResponseMessage().
 */
class ProviderException extends SnapException
{
    protected const DEFAULT_STATUS = Status::PROVIDER;
}
