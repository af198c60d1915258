<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * The native library cannot be used: the FFI extension is missing or
 * disabled, libsnapb2b cannot be found or loaded, or its version is not one
 * this binding supports. A deployment problem, not a SNAP failure, so it is
 * not a SnapException; the message says what to change.
 */
class LibraryException extends \RuntimeException
{
}
