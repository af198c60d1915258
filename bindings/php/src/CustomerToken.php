<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * A customer (SNAP B2B2C) token as returned by TokenClient::customerToken().
 * Immutable: read it with the getters or as read-only properties.
 *
 * Both tokens are secrets: var_dump()/print_r() (__debugInfo) and string
 * conversion (__toString) show them masked, json_encode() sees no public
 * property.
 *
 * @property-read string      $provider              "doku" or "snap"
 * @property-read string      $accessToken           the customer's access token (secret)
 * @property-read string      $tokenType             normally "Bearer"
 * @property-read int|null    $accessTokenExpiresAt  Unix seconds, from accessTokenExpiryTime (null: not sent)
 * @property-read string|null $refreshToken          for the next customerToken() call, usable once (secret)
 * @property-read int|null    $refreshTokenExpiresAt Unix seconds, from refreshTokenExpiryTime (null: not sent)
 * @property-read string|null $customerId            the provider's customerId, when it sends one
 * @property-read array|null  $additionalInfo        the answer's additionalInfo object
 * @property-read string|null $responseCode          e.g. "2007400"
 * @property-read string|null $responseMessage
 */
final class CustomerToken
{
    private const FIELDS = [
        'provider', 'accessToken', 'tokenType', 'accessTokenExpiresAt', 'refreshToken', 'refreshTokenExpiresAt',
        'customerId', 'additionalInfo', 'responseCode', 'responseMessage',
    ];

    private string $provider;
    private string $accessToken;
    private string $tokenType;
    private ?int $accessTokenExpiresAt;
    private ?string $refreshToken;
    private ?int $refreshTokenExpiresAt;
    private ?string $customerId;
    /** @var array<string, mixed>|null */
    private ?array $additionalInfo;
    private ?string $responseCode;
    private ?string $responseMessage;

    /**
     * @param array<string, mixed>|null $additionalInfo
     */
    public function __construct(
        string $provider,
        #[\SensitiveParameter]
        string $accessToken,
        string $tokenType,
        ?int $accessTokenExpiresAt,
        #[\SensitiveParameter]
        ?string $refreshToken,
        ?int $refreshTokenExpiresAt,
        ?string $customerId = null,
        ?array $additionalInfo = null,
        ?string $responseCode = null,
        ?string $responseMessage = null
    ) {
        $this->provider = $provider;
        $this->accessToken = $accessToken;
        $this->tokenType = $tokenType;
        $this->accessTokenExpiresAt = $accessTokenExpiresAt;
        $this->refreshToken = $refreshToken;
        $this->refreshTokenExpiresAt = $refreshTokenExpiresAt;
        $this->customerId = $customerId;
        $this->additionalInfo = $additionalInfo;
        $this->responseCode = $responseCode;
        $this->responseMessage = $responseMessage;
    }

    /**
     * From b2b_client_customer_token()'s result JSON `{"provider",
     * "access_token","token_type","access_token_expires_at","refresh_token",
     * "refresh_token_expires_at","customer_id","additional_info",
     * "response_code","response_message"}`.
     *
     * @throws InternalException when the JSON does not have that shape (a library bug)
     */
    public static function fromJson(
        #[\SensitiveParameter]
        string $json
    ): self {
        $data = json_decode($json, true);
        $optional = static function (array $data, string $key, string $type): bool {
            $value = $data[$key] ?? null;
            return $value === null || ($type === 'int' ? is_int($value) : ($type === 'array' ? is_array($value) : is_string($value)));
        };
        if (!is_array($data)
            || !is_string($data['provider'] ?? null)
            || !is_string($data['access_token'] ?? null)
            || !is_string($data['token_type'] ?? null)
            || !$optional($data, 'access_token_expires_at', 'int')
            || !$optional($data, 'refresh_token', 'string')
            || !$optional($data, 'refresh_token_expires_at', 'int')
            || !$optional($data, 'customer_id', 'string')
            || !$optional($data, 'additional_info', 'array')) {
            throw new InternalException('snapb2b returned a customer token JSON this binding does not understand; please report it');
        }
        $code = $data['response_code'] ?? null;
        $message = $data['response_message'] ?? null;
        return new self(
            $data['provider'],
            $data['access_token'],
            $data['token_type'],
            $data['access_token_expires_at'] ?? null,
            $data['refresh_token'] ?? null,
            $data['refresh_token_expires_at'] ?? null,
            $data['customer_id'] ?? null,
            $data['additional_info'] ?? null,
            is_scalar($code) ? (string) $code : null,
            is_scalar($message) ? (string) $message : null
        );
    }

    public function getProvider(): string
    {
        return $this->provider;
    }

    public function getAccessToken(): string
    {
        return $this->accessToken;
    }

    public function getTokenType(): string
    {
        return $this->tokenType;
    }

    public function getAccessTokenExpiresAt(): ?int
    {
        return $this->accessTokenExpiresAt;
    }

    public function getRefreshToken(): ?string
    {
        return $this->refreshToken;
    }

    public function getRefreshTokenExpiresAt(): ?int
    {
        return $this->refreshTokenExpiresAt;
    }

    public function getCustomerId(): ?string
    {
        return $this->customerId;
    }

    /** @return array<string, mixed>|null */
    public function getAdditionalInfo(): ?array
    {
        return $this->additionalInfo;
    }

    public function getResponseCode(): ?string
    {
        return $this->responseCode;
    }

    public function getResponseMessage(): ?string
    {
        return $this->responseMessage;
    }

    /** The Authorization-Customer header value: "<type> <token>". */
    public function authorizationHeader(): string
    {
        return $this->tokenType . ' ' . $this->accessToken;
    }

    /**
     * Every field, both tokens unmasked: for your own storage, never for logs.
     *
     * @return array<string, mixed>
     */
    public function toArray(): array
    {
        $fields = [];
        foreach (self::FIELDS as $name) {
            $fields[$name] = $this->{$name};
        }
        return $fields;
    }

    /** @return mixed */
    public function __get(string $name)
    {
        if (in_array($name, self::FIELDS, true)) {
            return $this->{$name};
        }
        throw new \LogicException(sprintf('%s has no property $%s', self::class, $name));
    }

    public function __isset(string $name): bool
    {
        return in_array($name, self::FIELDS, true) && $this->{$name} !== null;
    }

    /** @param mixed $value */
    public function __set(string $name, $value): void
    {
        throw new \LogicException(sprintf('%s is immutable: cannot set $%s', self::class, $name));
    }

    public function __unset(string $name): void
    {
        throw new \LogicException(sprintf('%s is immutable: cannot unset $%s', self::class, $name));
    }

    /** @return array<string, mixed> the fields, both tokens masked */
    public function __debugInfo(): array
    {
        $fields = $this->toArray();
        $fields['accessToken'] = Token::mask($this->accessToken);
        $fields['refreshToken'] = $this->refreshToken === null ? null : Token::mask($this->refreshToken);
        return $fields;
    }

    public function __toString(): string
    {
        return sprintf(
            '%s customer token %s (%s) for %s, expires %s',
            $this->provider,
            Token::mask($this->accessToken),
            $this->tokenType,
            $this->customerId ?? 'an unnamed customer',
            $this->accessTokenExpiresAt === null ? 'at an unstated time' : gmdate('Y-m-d\TH:i:s\Z', $this->accessTokenExpiresAt)
        );
    }
}
