<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * An access token as returned by TokenClient::getToken(). Immutable.
 *
 * The fields are private properties set only by the constructor. Read them
 * with the getters, or as read-only properties (`$token->accessToken`):
 * writing or unsetting one throws \LogicException.
 *
 * The access token is a secret: var_dump()/print_r() (__debugInfo) and
 * string conversion (__toString) show it masked, json_encode() sees no
 * public property. Use getAccessToken() or authorizationHeader() to send it.
 *
 * @property-read string      $provider        the profile's name: "doku", "nicepay", "klikoo", "midtrans",
 *                                             "snap", or a user profile's `name`
 * @property-read string      $accessToken     the token itself (secret)
 * @property-read string      $tokenType       as the provider sent it ("Bearer", "Mac", ...)
 * @property-read int         $expiresIn       lifetime in seconds, as the provider said
 * @property-read int         $expiresAt       Unix time (seconds) at which it expires
 * @property-read string|null $responseCode    the provider's responseCode, e.g. "2007300"
 * @property-read string|null $responseMessage the provider's responseMessage
 * @property-read array<string, mixed>|null $additionalInfo the provider's additionalInfo object, or null
 * @property-read bool        $cached          true when TokenClient::getToken() returned a cached
 *                                             token (memory or cache_file), false when that call
 *                                             made the token request
 * @property-read string|null $cache           whether the token is shared: "on", "off: <why>" (cache_file),
 *                                             "unavailable: redis at ...: <why>" (cache_url), null when
 *                                             the client shares nothing
 */
final class Token
{
    private const FIELDS = [
        'provider', 'accessToken', 'tokenType', 'expiresIn', 'expiresAt', 'responseCode', 'responseMessage', 'cached',
        'additionalInfo', 'cache',
    ];

    private string $provider;
    private string $accessToken;
    private string $tokenType;
    private int $expiresIn;
    private int $expiresAt;
    private ?string $responseCode;
    private ?string $responseMessage;
    private bool $cached;
    /** @var array<string, mixed>|null */
    private ?array $additionalInfo;
    private ?string $cache;

    /** @param array<string, mixed>|null $additionalInfo */
    public function __construct(
        string $provider,
        #[\SensitiveParameter]
        string $accessToken,
        string $tokenType,
        int $expiresIn,
        int $expiresAt,
        ?string $responseCode = null,
        ?string $responseMessage = null,
        bool $cached = false,
        ?array $additionalInfo = null,
        ?string $cache = null
    ) {
        $this->provider = $provider;
        $this->accessToken = $accessToken;
        $this->tokenType = $tokenType;
        $this->expiresIn = $expiresIn;
        $this->expiresAt = $expiresAt;
        $this->responseCode = $responseCode;
        $this->responseMessage = $responseMessage;
        $this->cached = $cached;
        $this->additionalInfo = $additionalInfo;
        $this->cache = $cache;
    }

    /**
     * From b2b_get_token()'s result JSON
     * `{"provider","access_token","token_type","expires_in","expires_at","response_code","response_message","additional_info"}`,
     * or b2b_client_token()'s, which adds `"cached": true|false` and `"cache"`.
     *
     * @throws InternalException when the JSON does not have that shape (a library bug)
     */
    public static function fromJson(
        #[\SensitiveParameter]
        string $json
    ): self {
        $data = json_decode($json, true);
        if (!is_array($data)
            || !is_string($data['provider'] ?? null)
            || !is_string($data['access_token'] ?? null)
            || !is_string($data['token_type'] ?? null)
            || !is_int($data['expires_in'] ?? null)
            || !is_int($data['expires_at'] ?? null)) {
            // The library's output, not the provider's answer: a bug, hence INTERNAL (as in Python).
            throw new InternalException('snapb2b returned a token JSON this binding does not understand; please report it');
        }
        $code = $data['response_code'] ?? null;
        $message = $data['response_message'] ?? null;
        return new self(
            $data['provider'],
            $data['access_token'],
            $data['token_type'],
            $data['expires_in'],
            $data['expires_at'],
            is_scalar($code) ? (string) $code : null,
            is_scalar($message) ? (string) $message : null,
            ($data['cached'] ?? false) === true,
            is_array($data['additional_info'] ?? null) ? $data['additional_info'] : null,
            is_string($data['cache'] ?? null) ? $data['cache'] : null
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

    public function getExpiresIn(): int
    {
        return $this->expiresIn;
    }

    public function getExpiresAt(): int
    {
        return $this->expiresAt;
    }

    public function getResponseCode(): ?string
    {
        return $this->responseCode;
    }

    public function getResponseMessage(): ?string
    {
        return $this->responseMessage;
    }

    /**
     * True when TokenClient::getToken() returned a token it already had
     * (in memory, or from the cache_file another process wrote), false when
     * that call requested it from the provider (and for tokens built otherwise).
     */
    public function isCached(): bool
    {
        return $this->cached;
    }

    /** The same as isCached(). */
    public function getCached(): bool
    {
        return $this->cached;
    }

    /**
     * Whether the client shares its token with other processes: "on",
     * "off: <why>" (the cache_file cannot be used safely),
     * "unavailable: redis at ...: <why>" (cache_url down: the token was
     * fetched alone), or null when the config asks for no sharing.
     */
    public function getCache(): ?string
    {
        return $this->cache;
    }

    /** @return array<string, mixed>|null the provider's additionalInfo object, as sent */
    public function getAdditionalInfo(): ?array
    {
        return $this->additionalInfo;
    }

    /**
     * The Authorization header value for service calls: the token's own
     * type as the provider sent it ("Bearer", "Mac", ...), a space, the token.
     */
    public function authorizationHeader(): string
    {
        return $this->tokenType . ' ' . $this->accessToken;
    }

    /** Seconds until expiry (negative once expired). */
    public function secondsLeft(?int $now = null): int
    {
        return $this->expiresAt - ($now ?? time());
    }

    /** True when the token expires within $marginSeconds from now. */
    public function isExpired(int $marginSeconds = 0, ?int $now = null): bool
    {
        return $this->secondsLeft($now) <= $marginSeconds;
    }

    /** The token for logs: first 6 characters, "...", last 4 ("***" when short). */
    public function maskedAccessToken(): string
    {
        return self::mask($this->accessToken);
    }

    /** Masks any token the same way as maskedAccessToken(). */
    public static function mask(
        #[\SensitiveParameter]
        string $token
    ): string {
        if (strlen($token) < 16) {
            return '***';
        }
        return substr($token, 0, 6) . '...' . substr($token, -4);
    }

    /**
     * Every field, the access token unmasked: for your own storage (a cache),
     * never for logs. (Without `cached`, which says where this copy came from.)
     *
     * @return array{provider: string, accessToken: string, tokenType: string, expiresIn: int, expiresAt: int, responseCode: ?string, responseMessage: ?string, additionalInfo: ?array<string, mixed>}
     */
    public function toArray(): array
    {
        return [
            'provider' => $this->provider,
            'accessToken' => $this->accessToken,
            'tokenType' => $this->tokenType,
            'expiresIn' => $this->expiresIn,
            'expiresAt' => $this->expiresAt,
            'responseCode' => $this->responseCode,
            'responseMessage' => $this->responseMessage,
            'additionalInfo' => $this->additionalInfo,
        ];
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

    /** @return array<string, mixed> the fields, the access token masked */
    public function __debugInfo(): array
    {
        $fields = $this->toArray();
        $fields['accessToken'] = $this->maskedAccessToken();
        $fields['cached'] = $this->cached;
        return $fields;
    }

    public function __toString(): string
    {
        return sprintf(
            '%s token %s (%s), expires %s',
            $this->provider,
            $this->maskedAccessToken(),
            $this->tokenType,
            gmdate('Y-m-d\TH:i:s\Z', $this->expiresAt)
        );
    }
}
