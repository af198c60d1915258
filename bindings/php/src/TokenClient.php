<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * Fetches SNAP B2B access tokens for one provider account.
 *
 *     $client = new TokenClient([
 *         'provider' => 'doku',                 // doku | nicepay | klikoo | snap
 *         'environment' => 'sandbox',           // or 'production', or 'base_url' => 'https://...'
 *         'client_id' => 'BRN-0001-...',
 *         'private_key_file' => '/etc/snap/merchant-key.pem',
 *     ]);
 *     $token = $client->getToken();
 *     $headers['Authorization'] = $token->authorizationHeader();
 *
 * The config keys are the C library's: provider, base_url, environment,
 * token_path, client_id, private_key or private_key_file,
 * private_key_passphrase, client_secret (klikoo), timeout_ms,
 * connect_timeout_ms, ca_file, allow_http, timestamp_style
 * (wib | utc | utc_ms | wib_ms). Unknown keys are an InvalidArgumentException.
 *
 * The client holds secrets, so var_dump() shows only non-secret fields and
 * it cannot be serialized or cloned.
 */
final class TokenClient
{
    /** Config keys whose values are never shown by __debugInfo(). */
    private const SECRET_KEYS = ['private_key', 'private_key_passphrase', 'client_secret'];

    private string $configJson;

    /** @var array<string, mixed> the non-secret part of the config, for __debugInfo() */
    private array $visibleConfig;

    /**
     * @param array<string, mixed> $config the C library's config keys (see the class comment)
     *
     * @throws InvalidArgumentException when the config cannot be passed to the library
     *                                  (non-string keys, NUL bytes, invalid UTF-8)
     */
    public function __construct(array $config)
    {
        $visible = [];
        foreach ($config as $key => $value) {
            if (!is_string($key) || $key === '') {
                throw new InvalidArgumentException(sprintf('config keys must be non-empty strings, got %s', var_export($key, true)));
            }
            self::checkValue($key, $value);
            $visible[$key] = in_array($key, self::SECRET_KEYS, true) ? '***' : $value;
        }
        try {
            // An object even when empty: `{}`, never `[]`.
            $this->configJson = json_encode((object) $config, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new InvalidArgumentException('config cannot be encoded as JSON: ' . $e->getMessage(), Status::INVALID_ARGUMENT);
        }
        $this->visibleConfig = $visible;
    }

    /**
     * A client from a JSON config file (the same keys).
     *
     * @throws InvalidArgumentException when the file is unreadable or not a JSON object
     */
    public static function fromJsonFile(string $path): self
    {
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
        return new self($config);
    }

    /**
     * Requests a new access token from the provider (one HTTPS request).
     *
     * @throws InvalidArgumentException bad config (unknown key, missing field, http:// without allow_http, ...)
     * @throws KeyException             unusable private key
     * @throws TransportException       DNS, connect, TLS, certificate, dropped connection
     * @throws TimeoutException         no complete answer within timeout_ms
     * @throws ProviderException        the provider refused (getHttpStatus(), getResponseCode())
     * @throws ProtocolException        the answer is not the documented JSON
     * @throws SnapException            any other status
     * @throws LibraryException         the native library is unavailable
     */
    public function getToken(): Token
    {
        return Token::fromJson(Native::getToken($this->configJson));
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

    /** @param mixed $value */
    private static function checkValue(string $key, $value): void
    {
        Native::assertNoNul($key, 'a config key');
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
            'config value `%s` must be a string, number, boolean or null, got %s',
            $key,
            is_object($value) ? get_class($value) : gettype($value)
        ));
    }
}
