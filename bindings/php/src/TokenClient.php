<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * SNAP B2B access tokens for one provider account, cached: the library's
 * caching client (`b2b_client`) behind a PHP object.
 *
 *     $client = new TokenClient([
 *         'provider' => 'doku',                 // doku | nicepay | klikoo | snap
 *         'environment' => 'sandbox',           // or 'production', or 'base_url' => 'https://...'
 *         'client_id' => 'BRN-0001-...',
 *         'private_key_file' => '/etc/snap/merchant-key.pem',
 *     ]);
 *     $token = $client->getToken();          // cached while fresh
 *     $headers['Authorization'] = $token->authorizationHeader();
 *
 * The config keys are the C library's: provider, base_url, environment,
 * token_path, client_id, private_key or private_key_file,
 * private_key_passphrase, client_secret (klikoo), timeout_ms,
 * connect_timeout_ms, ca_file, allow_http, timestamp_style
 * (wib | utc | utc_ms | wib_ms), plus the client's refresh_margin_s
 * (default 60), cache_file (a path shared by every process using the same
 * config: PHP-FPM workers then share one token) and max_retries (default 2).
 * For service calls (headers(), request()) also channel_id (required),
 * client_secret (the HMAC key; required unless service_signature is "rsa"),
 * partner_id (default: client_id), service_signature ("hmac" | "rsa"),
 * external_id_length (16..36) and max_response_bytes.
 * Config errors (unknown key, missing field, unreadable key) throw from the
 * constructor, which parses the key once and creates the native handle;
 * __destruct() frees it.
 *
 * The client holds secrets, so var_dump() shows only non-secret fields and
 * it cannot be serialized or cloned.
 */
final class TokenClient
{
    /** Config keys whose values are never shown by __debugInfo(). */
    private const SECRET_KEYS = ['private_key', 'private_key_passphrase', 'client_secret'];

    /** @var array<string, mixed> the non-secret part of the config, for __debugInfo() */
    private array $visibleConfig;

    private \FFI $ffi;

    /** The `b2b_client *`; null once freed. */
    private ?\FFI\CData $handle = null;

    /**
     * @param array<string, mixed> $config the C library's config keys (see the class comment)
     *
     * @throws InvalidArgumentException bad config: non-string keys, NUL bytes, invalid UTF-8 (the binding);
     *                                  unknown key, missing field, unknown provider, http:// without
     *                                  allow_http (the library)
     * @throws KeyException             unusable private key
     * @throws LibraryException         the native library is unavailable
     */
    public function __construct(
        #[\SensitiveParameter]
        array $config
    ) {
        // The usual config (string keys, scalar values) is checked inline;
        // anything else, or JSON that cannot be encoded, goes through
        // checkConfig() for a message that names the key. PHP-FPM runs
        // this in every request.
        foreach ($config as $key => $value) {
            if (!is_string($key) || $key === '' || strpos($key, "\0") !== false
                || (is_string($value) ? strpos($value, "\0") !== false : !($value === null || is_scalar($value)))) {
                self::checkConfig($config);
                break;
            }
        }
        try {
            // An object even when empty: `{}`, never `[]`.
            $configJson = json_encode((object) $config, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            self::checkConfig($config);
            throw new InvalidArgumentException('config cannot be encoded as JSON: ' . $e->getMessage(), Status::INVALID_ARGUMENT);
        }
        $visible = $config;
        foreach (self::SECRET_KEYS as $key) {
            if (array_key_exists($key, $visible)) {
                $visible[$key] = '***';
            }
        }
        $this->visibleConfig = $visible;
        $this->ffi = Native::ffi();
        // The library keeps what it needs (the parsed key); the JSON with its secrets is not kept here.
        $this->handle = Native::clientNew($configJson);
    }

    /** Frees the native handle (and its connection). */
    public function __destruct()
    {
        $handle = $this->handle;
        if ($handle !== null) {
            $this->handle = null;
            $this->ffi->b2b_client_free($handle);
        }
    }

    /**
     * A client from a JSON config file (the same keys), with $overrides
     * replacing or adding keys, e.g. `['cache_file' => '/run/snap/token.json']`.
     *
     * @param array<string, mixed> $overrides
     *
     * @throws InvalidArgumentException when the file is unreadable or not a JSON object, or the config is bad
     * @throws KeyException             unusable private key
     */
    public static function fromJsonFile(
        string $path,
        #[\SensitiveParameter]
        array $overrides = []
    ): self {
        Native::assertNoNul($path, 'config file path');
        $json = is_file($path) && is_readable($path) ? file_get_contents($path) : false;
        if ($json === false) {
            throw new InvalidArgumentException(sprintf('cannot read config file %s', $path));
        }
        $config = json_decode($json, true);
        if (!is_array($config) || ($config !== [] && array_keys($config) === range(0, count($config) - 1))) {
            throw new InvalidArgumentException(sprintf(
                'config file %s is not a JSON object%s',
                $path,
                json_last_error() !== JSON_ERROR_NONE ? ' (' . json_last_error_msg() . ')' : ''
            ));
        }
        return new self(array_replace($config, $overrides));
    }

    /**
     * The access token: the cached one while more than refresh_margin_s of its
     * life remains (Token::isCached() true; no request, a few microseconds),
     * else a new one from the provider, or from cache_file when another process
     * renewed it. Transport failures, timeouts and HTTP 5xx are retried
     * (max_retries) within timeout_ms; when a renewal fails while the old
     * token still has a few seconds, the old token is returned.
     *
     * @throws InvalidArgumentException the client was freed (__destruct() called)
     * @throws TransportException       DNS, connect, TLS, certificate, dropped connection
     * @throws TimeoutException         no complete answer within timeout_ms
     * @throws ProviderException        the provider refused (getHttpStatus(), getResponseCode())
     * @throws ProtocolException        the answer is not the documented JSON
     * @throws SnapException            any other status
     */
    public function getToken(): Token
    {
        // The hot path: one FFI call, one copy, one free, one json_decode.
        [$out, $address] = Native::out();
        $status = $this->ffi->b2b_client_token($this->handle, $address);
        return Token::fromJson(Native::takeString($status, $out, 'b2b_client_token'));
    }

    /**
     * Drops the cached token, including its cache_file entry, so the next
     * getToken() requests a new one: call it when a service call answered
     * HTTP 401 "Invalid Token (B2B)" (responseCode 401xx01), then retry that call once.
     *
     * @throws InvalidArgumentException the client was freed (__destruct() called)
     */
    public function invalidate(): void
    {
        Native::check($this->ffi->b2b_client_invalidate($this->handle));
    }

    /**
     * The headers of one SNAP service call, in this order: Content-Type,
     * Authorization (a fresh token, through the cache), X-TIMESTAMP,
     * X-SIGNATURE, X-PARTNER-ID, X-EXTERNAL-ID (new for each call), CHANNEL-ID.
     *
     *     $headers = $client->headers('POST', '/v1.0/transfer-va/inquiry', $json);
     *     // send Signer::minifyJson($json) as the body: that is what is signed
     *
     * $path is the URL path relative to base_url, query included, exactly as
     * it will be sent; the signed EndpointUrl is base_url's path followed by
     * it. The signature covers the minified body, so send exactly that:
     * Signer::minifyJson($body) for a string, and for an array
     * json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE).
     * request() does all of this for you.
     *
     * @param string|array|object|null $body JSON text, an array / object (encoded as above), or null for none
     *
     * @return array<string, string>
     *
     * @throws InvalidArgumentException a bad method, path or body; a config without channel_id
     *                                  (or client_secret, for hmac); the client was freed
     * @throws SnapException            the token could not be had (as getToken())
     */
    public function headers(string $method, string $path, $body = null): array
    {
        $json = Native::clientHeaders($this->handle, $method, $path, Native::bodyText($body));
        $headers = json_decode($json, true);
        if (!is_array($headers)) {
            throw new InternalException('snapb2b returned headers this binding does not understand; please report it');
        }
        return $headers;
    }

    /**
     * Makes one SNAP service call: builds and signs its headers (as
     * headers()), sends it over the client's connection and returns the
     * provider's answer, whatever its HTTP status.
     *
     *     $response = $client->request('POST', '/v1.0/transfer-va/inquiry', $body);
     *     if ($response->ok()) { $data = $response->json(); }
     *
     * The body is sent minified, with its own spelling (numbers, escapes, key
     * order) kept. $headers are extra headers to send. $externalId replaces
     * the generated X-EXTERNAL-ID (to retry a call under the same id).
     * When the provider refuses the token (HTTP 401, SNAP 401xx01), the token
     * is renewed once and the call sent once more (tokenRenewed(), attempts() 2).
     * $customerToken (a CustomerToken's access token) is sent as
     * `Authorization-Customer: Bearer <token>`.
     *
     * @param string|array|object|null $body    as for headers()
     * @param array<string, string>    $headers extra headers
     *
     * @throws InvalidArgumentException bad arguments or config (as headers()), reserved header names
     * @throws TransportException       no HTTP answer; the message says "not sent" (safe to retry)
     *                                  or "it may have been processed" (query its status with the
     *                                  X-EXTERNAL-ID the message names before sending it again)
     * @throws TimeoutException         no complete answer within $timeoutMs (or timeout_ms); same wording
     * @throws ProtocolException        the answer is not HTTP; same wording
     * @throws SnapException            the token could not be had (as getToken())
     */
    public function request(
        string $method,
        string $path,
        $body = null,
        array $headers = [],
        ?string $externalId = null,
        ?int $timeoutMs = null,
        #[\SensitiveParameter]
        ?string $customerToken = null
    ): Response {
        $request = ['method' => $method, 'path' => $path];
        $text = Native::bodyText($body);
        if ($text !== null) {
            // As a JSON string, so that the library keeps the text's spelling.
            $request['body'] = $text;
        }
        if ($headers !== []) {
            foreach ($headers as $name => $value) {
                if (!is_string($name) || !is_string($value)) {
                    throw new InvalidArgumentException('headers must map header names to string values', Status::INVALID_ARGUMENT);
                }
            }
            $request['headers'] = (object) $headers;
        }
        if ($externalId !== null) {
            $request['external_id'] = $externalId;
        }
        if ($timeoutMs !== null) {
            $request['timeout_ms'] = $timeoutMs;
        }
        if ($customerToken !== null) {
            $request['customer_token'] = $customerToken;
        }
        try {
            $json = json_encode($request, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            // Invalid UTF-8 somewhere; the message does not quote the value.
            throw new InvalidArgumentException('request cannot be encoded as JSON: ' . $e->getMessage(), Status::INVALID_ARGUMENT);
        }
        return Response::fromJson(Native::clientRequest($this->handle, $json));
    }

    /**
     * A customer (SNAP B2B2C) token for the customer's $authCode (grant
     * authorization_code) or a $refreshToken (grant refresh_token): exactly
     * one. Signed as the B2B token is, sent over the client's connection;
     * $additionalInfo goes out as additionalInfo. Nothing is cached: keep the
     * refresh token (usable once) for the next one.
     *
     *     $customer = $client->customerToken($authCode);
     *     $client->request('POST', $path, $body, [], null, null, $customer->getAccessToken());
     *
     * @param array<string, mixed>|null $additionalInfo
     *
     * @throws InvalidArgumentException both or neither grant, a bad value, a provider without a
     *                                  B2B2C endpoint, the client was freed
     * @throws ProviderException        the provider refused the code or refresh token
     *                                  (getResponseCode(), getHint())
     * @throws TransportException       no answer; a request that may have arrived is never re-sent
     * @throws SnapException            any other status
     */
    public function customerToken(
        #[\SensitiveParameter]
        ?string $authCode = null,
        #[\SensitiveParameter]
        ?string $refreshToken = null,
        ?array $additionalInfo = null,
        ?int $timeoutMs = null
    ): CustomerToken {
        $request = [];
        if ($authCode !== null) {
            $request['auth_code'] = $authCode;
        }
        if ($refreshToken !== null) {
            $request['refresh_token'] = $refreshToken;
        }
        if ($additionalInfo !== null) {
            // An object even when empty: `{}`, never `[]`.
            $request['additional_info'] = (object) $additionalInfo;
        }
        if ($timeoutMs !== null) {
            $request['timeout_ms'] = $timeoutMs;
        }
        try {
            $json = json_encode((object) $request, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new InvalidArgumentException('customer token request cannot be encoded as JSON: ' . $e->getMessage(), Status::INVALID_ARGUMENT);
        }
        return CustomerToken::fromJson(Native::clientCustomerToken($this->handle, $json));
    }

    /** @return array<string, mixed> the config without its secrets */
    public function __debugInfo(): array
    {
        return ['config' => $this->visibleConfig];
    }

    /** @return array<string, mixed> */
    public function __serialize(): array
    {
        throw new \LogicException(self::class . ' holds secrets and cannot be serialized; keep its config instead');
    }

    /** @param array<string, mixed> $data */
    public function __unserialize(array $data): void
    {
        throw new \LogicException(self::class . ' cannot be unserialized');
    }

    private function __clone()
    {
    }

    /**
     * Every key and value of $config (see checkValue()).
     *
     * @param array<mixed> $config
     *
     * @throws InvalidArgumentException naming the key
     */
    private static function checkConfig(
        #[\SensitiveParameter]
        array $config
    ): void {
        foreach ($config as $key => $value) {
            if (!is_string($key) || $key === '') {
                throw new InvalidArgumentException(sprintf('config keys must be non-empty strings, got %s', var_export($key, true)));
            }
            self::checkValue($key, $value);
        }
    }

    /**
     * Scalars, and arrays / stdClass objects of them (a `profile`, nested
     * up to a few levels; `(object) []` for an empty JSON object): the
     * library checks the keys and the shapes.
     *
     * @param mixed $value
     */
    private static function checkValue(
        string $key,
        #[\SensitiveParameter]
        $value,
        int $depth = 0
    ): void {
        Native::assertNoNul($key, 'a config key');
        if (is_array($value) || $value instanceof \stdClass) {
            if ($depth >= 6) {
                throw new InvalidArgumentException(sprintf('config value `%s` is nested too deeply', $key));
            }
            foreach ((array) $value as $inner => $item) {
                $name = (string) $inner;
                if (preg_match('//u', $name) !== 1) {
                    throw new InvalidArgumentException(sprintf('a key inside config value `%s` is not valid UTF-8', $key));
                }
                self::checkValue($key, $item, $depth + 1);
                Native::assertNoNul($name, sprintf('a key inside config value `%s`', $key));
            }
            return;
        }
        if (is_string($value)) {
            Native::assertNoNul($value, sprintf('config value `%s`', $key));
            if (preg_match('//u', $value) !== 1) {
                throw new InvalidArgumentException(sprintf('config value `%s` is not valid UTF-8', $key));
            }
            return;
        }
        if ($value === null || is_bool($value) || is_int($value) || is_float($value)) {
            return;
        }
        throw new InvalidArgumentException(sprintf(
            'config value `%s` must be a string, number, boolean, null or an array of them, got %s',
            $key,
            is_object($value) ? get_class($value) : gettype($value)
        ));
    }
}
