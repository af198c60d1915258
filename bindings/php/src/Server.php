<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * A merchant endpoint (the library's `b2b_server`): answers providers' B2B
 * token requests and checks their notifications.
 *
 *     $server = Server::fromJsonFile('/etc/snap/server.json');
 *     $request = ServerRequest::fromGlobals();
 *     if ($request->route() === '/v1.0/access-token/b2b') {
 *         $server->tokenResponseTo($request)->send();
 *     } else {
 *         $verdict = $server->checkRequest($request, '25');
 *         // accepted: process json_decode($request->body(), true) once per $verdict->externalId()
 *         $verdict->send('{"responseCode":"2002500","responseMessage":"Successful"}');
 *     }
 *
 * Config: {"partners": [{"client_id", "public_key" or "public_key_file",
 * "client_secret", "notification_signature": "rsa" | "hmac"}],
 * "token_ttl_s": 900, "token_secret" or "token_secret_file" (at least 32
 * bytes), "max_skew_s": 300}. Without a token secret tokens hold only in
 * this process: PHP-FPM workers and the CLI server's requests are separate
 * processes or objects, so give every one the same `token_secret_file`.
 * X-EXTERNAL-IDs are remembered per Server object only (the library has no
 * shared replay store yet): with one PHP process per request a replay is
 * caught only when the same Server object sees both requests.
 *
 * Refusals of what the sender did wrong are answers (accepted() false), not
 * exceptions; exceptions are for your own mistakes and internal failures.
 * The server holds secrets: it cannot be serialized or cloned.
 */
final class Server
{
    private \FFI $ffi;

    /** The `b2b_server *`; null once freed. */
    private ?\FFI\CData $handle = null;

    /**
     * @param array<string, mixed>|string $config the config as an array or JSON text
     *
     * @throws InvalidArgumentException bad config (the message names the key, never a secret)
     * @throws KeyException             unusable partner public key
     * @throws LibraryException         the native library is unavailable
     */
    public function __construct(
        #[\SensitiveParameter]
        $config
    ) {
        if (is_array($config)) {
            try {
                $config = json_encode((object) $config, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
            } catch (\JsonException $e) {
                throw new InvalidArgumentException('server config cannot be encoded as JSON: ' . $e->getMessage(), Status::INVALID_ARGUMENT);
            }
        } elseif (!is_string($config)) {
            throw new InvalidArgumentException('server config must be an array or JSON text, got ' . (is_object($config) ? get_class($config) : gettype($config)), Status::INVALID_ARGUMENT);
        }
        $this->ffi = Native::ffi();
        $this->handle = Native::serverNew($config);
    }

    /**
     * A server from a JSON config file.
     *
     * @throws InvalidArgumentException unreadable file or bad config
     * @throws KeyException             unusable partner public key
     */
    public static function fromJsonFile(string $path): self
    {
        Native::assertNoNul($path, 'server config file path');
        $json = is_file($path) && is_readable($path) ? file_get_contents($path) : false;
        if ($json === false) {
            throw new InvalidArgumentException(sprintf('cannot read server config file %s', $path), Status::INVALID_ARGUMENT);
        }
        return new self($json);
    }

    public function __destruct()
    {
        $handle = $this->handle;
        if ($handle !== null) {
            $this->handle = null;
            $this->ffi->b2b_server_free($handle);
        }
    }

    /**
     * Answers a provider's `POST .../access-token/b2b`: X-CLIENT-KEY (a
     * configured partner), X-TIMESTAMP (fresh), X-SIGNATURE
     * (SHA256withRSA over "client_id|timestamp") and the
     * {"grantType":"client_credentials"} body. Accepted, body() holds the
     * access token (a JWT whose `sub` is the client id).
     *
     * @param array<string, string|list<string>> $headers names in any case
     *
     * @throws SnapException your own mistakes (bad service code, non-string header) and internal failures
     */
    public function tokenResponse(
        string $method,
        string $path,
        #[\SensitiveParameter]
        array $headers,
        string $body,
        ?string $serviceCode = null
    ): ServerResponse {
        $json = Native::serverCall('b2b_server_token', $this->handle, self::requestJson($method, $path, $headers, $body, $serviceCode));
        return ServerResponse::fromJson($json);
    }

    /**
     * Checks an inbound notification or service call: the Bearer token this
     * server issued, X-TIMESTAMP, X-SIGNATURE (per the partner's
     * notification_signature), X-PARTNER-ID / X-CLIENT-KEY when present, a
     * JSON object body, and an X-EXTERNAL-ID not yet used by that partner
     * today (used up only by a request that passed every other check).
     * $serviceCode (two digits, e.g. "25") goes into the refusals' SNAP
     * response codes (default "00").
     *
     * @param array<string, string|list<string>> $headers names in any case
     *
     * @throws SnapException your own mistakes and internal failures
     */
    public function check(
        string $method,
        string $path,
        #[\SensitiveParameter]
        array $headers,
        string $body,
        ?string $serviceCode = null
    ): Verdict {
        $json = Native::serverCall('b2b_server_check', $this->handle, self::requestJson($method, $path, $headers, $body, $serviceCode));
        return Verdict::fromJson($json);
    }

    /** tokenResponse() for a ServerRequest (e.g. ServerRequest::fromGlobals()). */
    public function tokenResponseTo(ServerRequest $request, ?string $serviceCode = null): ServerResponse
    {
        return $this->tokenResponse($request->method(), $request->path(), $request->headers(), $request->body(), $serviceCode);
    }

    /** check() for a ServerRequest (e.g. ServerRequest::fromGlobals()). */
    public function checkRequest(ServerRequest $request, ?string $serviceCode = null): Verdict
    {
        return $this->check($request->method(), $request->path(), $request->headers(), $request->body(), $serviceCode);
    }

    /**
     * The library's request JSON. A header given twice (in any case, or as
     * a list) is joined with ", " as HTTP folds it: two X-SIGNATUREs then
     * verify as neither, never as whichever one a check picked. Bytes that
     * are not UTF-8 become U+FFFD, so a sender's bad body is refused by the
     * signature check rather than thrown.
     *
     * @param array<mixed> $headers
     */
    private static function requestJson(
        string $method,
        string $path,
        #[\SensitiveParameter]
        array $headers,
        string $body,
        ?string $serviceCode
    ): string {
        $merged = [];
        $names = [];
        foreach ($headers as $name => $value) {
            if (is_array($value)) {
                $value = array_values($value);
                foreach ($value as $part) {
                    if (!is_string($part)) {
                        throw new InvalidArgumentException('header values must be strings or lists of strings', Status::INVALID_ARGUMENT);
                    }
                }
                $value = implode(', ', $value);
            }
            if (!is_string($name) || !is_string($value)) {
                throw new InvalidArgumentException('headers must map header names to string values', Status::INVALID_ARGUMENT);
            }
            $key = $names[strtolower($name)] ??= $name;
            $merged[$key] = isset($merged[$key]) ? $merged[$key] . ', ' . $value : $value;
        }
        $request = ['method' => $method, 'path' => $path, 'headers' => (object) $merged, 'body' => $body];
        if ($serviceCode !== null) {
            $request['service_code'] = $serviceCode;
        }
        try {
            // Escaped JSON: a NUL the sender put anywhere travels as \u0000.
            return json_encode($request, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new InvalidArgumentException('request cannot be encoded as JSON: ' . $e->getMessage(), Status::INVALID_ARGUMENT);
        }
    }

    /** @return array<string, mixed> nothing of the config (it holds secrets) */
    public function __debugInfo(): array
    {
        return ['open' => $this->handle !== null];
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
}
