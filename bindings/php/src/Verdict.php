<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * Server::check()'s answer. When accepted(), body() is null: process the
 * notification (once per externalId()), then send your own answer, e.g.
 * `$verdict->send('{"responseCode":"2002500","responseMessage":"Successful"}')`.
 * Refused, send() emits the SNAP rejection.
 */
final class Verdict extends ServerResponse
{
}
