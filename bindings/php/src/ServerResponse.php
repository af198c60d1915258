<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * The HTTP answer to send to a provider, and why: Server::tokenResponse()'s
 * result (and, as Verdict, Server::check()'s). Immutable.
 *
 * Send httpStatus(), headers() and body() exactly as they are, or call
 * send(). accepted() is false for a refusal of what the sender did wrong
 * (bad signature, stale timestamp, unknown client, replay, ...): body() is
 * then the SNAP rejection. reason() is one line for your log, without
 * secrets. An accepted token answer's body holds the access token, so
 * var_dump() never shows an accepted body.
 *
 * Not final: Verdict is this with its own name.
 */
class ServerResponse
{
    private bool $accepted;
    private int $httpStatus;

    /** @var array<string, string> */
    private array $headers;

    private ?string $body;
    private ?string $clientId;
    private ?string $externalId;
    private string $reason;

    /**
     * @param array<string, string> $headers
     */
    final public function __construct(
        bool $accepted,
        int $httpStatus,
        array $headers,
        #[\SensitiveParameter]
        ?string $body,
        ?string $clientId,
        ?string $externalId,
        string $reason
    ) {
        $this->accepted = $accepted;
        $this->httpStatus = $httpStatus;
        $this->headers = $headers;
        $this->body = $body;
        $this->clientId = $clientId;
        $this->externalId = $externalId;
        $this->reason = $reason;
    }

    /**
     * From the verdict JSON of b2b_server_token / b2b_server_check.
     *
     * @return static
     *
     * @throws InternalException when the JSON does not have that shape (a library bug)
     */
    public static function fromJson(
        #[\SensitiveParameter]
        string $json
    ): self {
        $data = json_decode($json, true);
        if (!is_array($data)
            || !is_bool($data['accepted'] ?? null)
            || !is_int($data['http_status'] ?? null)
            || !is_array($data['headers'] ?? null)
            || !(is_string($data['body'] ?? null) || ($data['body'] ?? null) === null)
            || !is_string($data['reason'] ?? null)) {
            // The library's output, not the sender's: a bug, hence INTERNAL.
            throw new InternalException('snapb2b returned a verdict JSON this binding does not understand; please report it');
        }
        $headers = [];
        foreach ($data['headers'] as $name => $value) {
            $headers[(string) $name] = is_scalar($value) ? (string) $value : '';
        }
        return new static(
            $data['accepted'],
            $data['http_status'],
            $headers,
            $data['body'],
            is_string($data['client_id'] ?? null) ? $data['client_id'] : null,
            is_string($data['external_id'] ?? null) ? $data['external_id'] : null,
            $data['reason']
        );
    }

    public function accepted(): bool
    {
        return $this->accepted;
    }

    public function httpStatus(): int
    {
        return $this->httpStatus;
    }

    /** @return array<string, string> */
    public function headers(): array
    {
        return $this->headers;
    }

    /** The exact JSON to send; null for an accepted notification (you write the answer). */
    public function body(): ?string
    {
        return $this->body;
    }

    /** The partner's client id, when it could be told. */
    public function clientId(): ?string
    {
        return $this->clientId;
    }

    /** The request's X-EXTERNAL-ID (Server::check() only): key your processing by it. */
    public function externalId(): ?string
    {
        return $this->externalId;
    }

    /** One line for your log, never a secret. */
    public function reason(): string
    {
        return $this->reason;
    }

    /**
     * Emits this answer: http_response_code(), the headers, Content-Length
     * and the body. An accepted notification has no body of its own: pass
     * yours, e.g. '{"responseCode":"2002500","responseMessage":"Successful"}',
     * sent with 200 (it is ignored for any other answer).
     *
     * @throws \LogicException when headers were already sent, or an accepted notification gets no body
     */
    public function send(?string $acceptedBody = null): void
    {
        $status = $this->httpStatus;
        $headers = $this->headers;
        $body = $this->body;
        if ($body === null) {
            if ($acceptedBody === null) {
                throw new \LogicException('an accepted notification has no answer of its own: pass your success body to send()');
            }
            [$status, $headers, $body] = [200, ['Content-Type' => 'application/json'], $acceptedBody];
        }
        if (headers_sent($file, $line)) {
            throw new \LogicException(sprintf('cannot send the answer: output already started at %s:%d', $file, $line));
        }
        http_response_code($status);
        foreach ($headers as $name => $value) {
            header($name . ': ' . $value);
        }
        header('Content-Length: ' . strlen($body));
        echo $body;
    }

    /** @return array<string, mixed> an accepted token answer's body (the token) hidden */
    public function __debugInfo(): array
    {
        return [
            'accepted' => $this->accepted,
            'httpStatus' => $this->httpStatus,
            'headers' => $this->headers,
            'body' => $this->accepted && $this->body !== null ? sprintf('<%d bytes>', strlen($this->body)) : $this->body,
            'clientId' => $this->clientId,
            'externalId' => $this->externalId,
            'reason' => $this->reason,
        ];
    }

    /** @return array<string, mixed> */
    public function __serialize(): array
    {
        throw new \LogicException(static::class . ' may hold an access token and cannot be serialized');
    }

    /** @param array<string, mixed> $data */
    public function __unserialize(array $data): void
    {
        throw new \LogicException(static::class . ' cannot be unserialized');
    }
}
