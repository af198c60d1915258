<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * The provider's answer to TokenClient::request(): any HTTP answer, whatever
 * its status (a failure to get one throws instead). Immutable.
 *
 * headers() has lower-case names; text() is the body exactly as received.
 * responseCode()/responseMessage() are the body's SNAP responseCode and
 * responseMessage (null when it has none). externalId() is the
 * X-EXTERNAL-ID that was sent: keep it to ask for the call's status later.
 * tokenRenewed() is true when the provider refused the token once and the
 * call was sent again with a new one (attempts() is then 2).
 *
 * var_dump() shows the start of the body only: bodies can be large.
 */
final class Response
{
    /** How much of the body __debugInfo() shows. */
    private const DEBUG_BODY_BYTES = 200;

    private int $httpStatus;

    /** @var array<string, string> */
    private array $headers;

    private string $text;
    private ?string $responseCode;
    private ?string $responseMessage;
    private string $externalId;
    private bool $tokenRenewed;
    private int $attempts;

    /**
     * @param array<string, string> $headers lower-case names
     */
    public function __construct(
        int $httpStatus,
        array $headers,
        string $text,
        ?string $responseCode,
        ?string $responseMessage,
        string $externalId,
        bool $tokenRenewed = false,
        int $attempts = 1
    ) {
        $this->httpStatus = $httpStatus;
        $this->headers = $headers;
        $this->text = $text;
        $this->responseCode = $responseCode;
        $this->responseMessage = $responseMessage;
        $this->externalId = $externalId;
        $this->tokenRenewed = $tokenRenewed;
        $this->attempts = $attempts;
    }

    /**
     * From b2b_client_request()'s JSON `{"http_status","headers","body",
     * "response_code","response_message","external_id","token_renewed","attempts"}`.
     *
     * @throws InternalException when the JSON does not have that shape (a library bug)
     */
    public static function fromJson(string $json): self
    {
        $data = json_decode($json, true);
        if (!is_array($data)
            || !is_int($data['http_status'] ?? null)
            || !is_array($data['headers'] ?? null)
            || !is_string($data['body'] ?? null)
            || !is_string($data['external_id'] ?? null)
            || !is_int($data['attempts'] ?? null)) {
            // The library's output, not the provider's answer: a bug, hence INTERNAL (as Token::fromJson).
            throw new InternalException('snapb2b returned a response JSON this binding does not understand; please report it');
        }
        $headers = [];
        foreach ($data['headers'] as $name => $value) {
            $headers[(string) $name] = is_scalar($value) ? (string) $value : '';
        }
        $code = $data['response_code'] ?? null;
        $message = $data['response_message'] ?? null;
        return new self(
            $data['http_status'],
            $headers,
            $data['body'],
            is_scalar($code) ? (string) $code : null,
            is_scalar($message) ? (string) $message : null,
            $data['external_id'],
            ($data['token_renewed'] ?? false) === true,
            $data['attempts']
        );
    }

    public function httpStatus(): int
    {
        return $this->httpStatus;
    }

    /** @return array<string, string> lower-case names */
    public function headers(): array
    {
        return $this->headers;
    }

    /** The body exactly as received. */
    public function text(): string
    {
        return $this->text;
    }

    /**
     * The body decoded as JSON (objects as arrays).
     *
     * @return mixed
     *
     * @throws \JsonException when the body is not JSON
     */
    public function json()
    {
        return json_decode($this->text, true, 512, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING);
    }

    public function responseCode(): ?string
    {
        return $this->responseCode;
    }

    public function responseMessage(): ?string
    {
        return $this->responseMessage;
    }

    public function externalId(): string
    {
        return $this->externalId;
    }

    public function tokenRenewed(): bool
    {
        return $this->tokenRenewed;
    }

    public function attempts(): int
    {
        return $this->attempts;
    }

    /** HTTP 2xx and a SNAP response code starting with "2". */
    public function ok(): bool
    {
        return $this->httpStatus >= 200 && $this->httpStatus < 300
            && $this->responseCode !== null && strncmp($this->responseCode, '2', 1) === 0;
    }

    /** @return array<string, mixed> */
    public function __debugInfo(): array
    {
        $text = $this->text;
        if (strlen($text) > self::DEBUG_BODY_BYTES) {
            $text = substr($text, 0, self::DEBUG_BODY_BYTES) . sprintf('... (%d bytes)', strlen($this->text));
        }
        return [
            'httpStatus' => $this->httpStatus,
            'responseCode' => $this->responseCode,
            'responseMessage' => $this->responseMessage,
            'externalId' => $this->externalId,
            'tokenRenewed' => $this->tokenRenewed,
            'attempts' => $this->attempts,
            'text' => $text,
        ];
    }
}
