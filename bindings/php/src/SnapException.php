<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * A failure reported by the snapb2b library (or detected by this binding
 * before calling it). One subclass per status code:
 *
 *   InvalidArgumentException (1), KeyException (2), CryptoException (3),
 *   TransportException (4), TimeoutException (5), ProviderException (6),
 *   ProtocolException (7), SignatureInvalidException (8), InternalException (99).
 *
 * getCode() is the status code too. Messages never contain key material,
 * passphrases, client secrets or tokens.
 */
class SnapException extends \RuntimeException
{
    /** The status used when the constructor is given none. */
    protected const DEFAULT_STATUS = Status::INTERNAL;

    /** @var array<int, class-string<SnapException>> */
    private const CLASSES = [
        Status::INVALID_ARGUMENT => InvalidArgumentException::class,
        Status::KEY => KeyException::class,
        Status::CRYPTO => CryptoException::class,
        Status::TRANSPORT => TransportException::class,
        Status::TIMEOUT => TimeoutException::class,
        Status::PROVIDER => ProviderException::class,
        Status::PROTOCOL => ProtocolException::class,
        Status::SIGNATURE_INVALID => SignatureInvalidException::class,
        Status::INTERNAL => InternalException::class,
    ];

    private int $status;
    private ?int $httpStatus;
    private ?string $responseCode;
    private ?string $responseMessage;
    private ?string $hint;

    public function __construct(
        string $message = '',
        ?int $status = null,
        ?int $httpStatus = null,
        ?string $responseCode = null,
        ?string $responseMessage = null,
        ?string $hint = null,
        ?\Throwable $previous = null
    ) {
        $status = $status ?? static::DEFAULT_STATUS;
        parent::__construct($message, $status, $previous);
        $this->status = $status;
        $this->httpStatus = $httpStatus;
        $this->responseCode = $responseCode;
        $this->responseMessage = $responseMessage;
        $this->hint = $hint;
    }

    /**
     * The exception class for a status code (SnapException itself for codes
     * this binding does not know yet).
     *
     * @return class-string<SnapException>
     */
    public static function classFor(int $status): string
    {
        return self::CLASSES[$status] ?? self::class;
    }

    /** Builds the exception of the class matching $status. */
    public static function fromStatus(
        int $status,
        string $message,
        ?int $httpStatus = null,
        ?string $responseCode = null,
        ?string $responseMessage = null,
        ?string $hint = null,
        ?\Throwable $previous = null
    ): self {
        $class = self::classFor($status);
        return new $class($message, $status, $httpStatus, $responseCode, $responseMessage, $hint, $previous);
    }

    /**
     * Builds the exception from b2b_last_error_json()'s object
     * `{"status","name","message","http_status","response_code","response_message","hint"}`.
     * $status (the returned code) wins over the JSON's, which only fills in details.
     *
     * @param array<string, mixed> $error
     */
    public static function fromErrorArray(int $status, array $error): self
    {
        $message = is_string($error['message'] ?? null) && $error['message'] !== ''
            ? $error['message']
            : sprintf('snapb2b failed with status %d (%s)', $status, Status::name($status));
        $hint = self::optionalString($error['hint'] ?? null);
        if ($hint !== null) {
            // Same shape as b2b_last_error(), without its "NAME: " prefix.
            $message .= ' (hint: ' . $hint . ')';
        }
        $http = $error['http_status'] ?? null;
        return self::fromStatus(
            $status,
            $message,
            is_int($http) ? $http : (is_numeric($http) ? (int) $http : null),
            self::optionalString($error['response_code'] ?? null),
            self::optionalString($error['response_message'] ?? null),
            $hint
        );
    }

    /** @param mixed $value */
    private static function optionalString($value): ?string
    {
        if (is_string($value)) {
            return $value;
        }
        if (is_int($value)) {
            return (string) $value;
        }
        return null;
    }

    /** The status code (1 INVALID_ARGUMENT ... 99 INTERNAL); same as getCode(). */
    public function getStatus(): int
    {
        return $this->status;
    }

    /**
     * The status name: "INVALID_ARGUMENT", "KEY", ..., "UNKNOWN", as the
     * library's b2b_status_name() spells it.
     *
     * @throws LibraryException the native library is unavailable
     */
    public function getStatusName(): string
    {
        return Status::name($this->status);
    }

    /** The provider's HTTP status (PROVIDER errors), or null. */
    public function getHttpStatus(): ?int
    {
        return $this->httpStatus;
    }

    /** The provider's responseCode, e.g. "4017300" (PROVIDER errors), or null. */
    public function getResponseCode(): ?string
    {
        return $this->responseCode;
    }

    /** The provider's responseMessage (PROVIDER errors), or null. */
    public function getResponseMessage(): ?string
    {
        return $this->responseMessage;
    }

    /** A suggestion for the operator when the cause is a known mistake, or null. */
    public function getHint(): ?string
    {
        return $this->hint;
    }
}
