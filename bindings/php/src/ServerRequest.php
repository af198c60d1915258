<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * An inbound HTTP request as Server needs it: method, path (query
 * included, as the provider signed it), headers and the raw body.
 *
 *     $request = ServerRequest::fromGlobals();   // $_SERVER, getallheaders(), php://input
 *
 * var_dump() hides the Authorization header (a bearer token).
 */
final class ServerRequest
{
    private string $method;
    private string $path;

    /** @var array<string, string|list<string>> */
    private array $headers;

    private string $body;

    /**
     * @param array<string, string|list<string>> $headers names in any case; a list of values is joined with ", "
     */
    public function __construct(
        string $method,
        string $path,
        #[\SensitiveParameter]
        array $headers,
        string $body
    ) {
        $this->method = $method;
        $this->path = $path;
        $this->headers = $headers;
        $this->body = $body;
    }

    /**
     * The request PHP is serving: REQUEST_METHOD and REQUEST_URI of
     * $server (default $_SERVER), the headers of getallheaders() (or, when
     * $server is given or that function is missing, $server's HTTP_*,
     * CONTENT_TYPE and CONTENT_LENGTH), and $body (default php://input).
     *
     * @param ?array<string, mixed> $server
     */
    public static function fromGlobals(?array $server = null, ?string $body = null): self
    {
        $headers = null;
        if ($server === null && function_exists('getallheaders')) {
            $all = getallheaders();
            $headers = is_array($all) ? $all : null;
        }
        $server = $server ?? $_SERVER;
        if ($headers === null) {
            $headers = [];
            foreach ($server as $key => $value) {
                if (!is_string($key) || !is_scalar($value)) {
                    continue;
                }
                if (strncmp($key, 'HTTP_', 5) === 0) {
                    $headers[str_replace('_', '-', substr($key, 5))] = (string) $value;
                } elseif ($key === 'CONTENT_TYPE' || $key === 'CONTENT_LENGTH') {
                    $headers[str_replace('_', '-', $key)] = (string) $value;
                }
            }
        }
        if ($body === null) {
            $input = file_get_contents('php://input');
            $body = $input === false ? '' : $input;
        }
        $method = $server['REQUEST_METHOD'] ?? 'GET';
        $path = $server['REQUEST_URI'] ?? '/';
        return new self(is_string($method) ? $method : 'GET', is_string($path) ? $path : '/', $headers, $body);
    }

    public function method(): string
    {
        return $this->method;
    }

    /** The request target, query included. */
    public function path(): string
    {
        return $this->path;
    }

    /** The path without its query string: for routing. */
    public function route(): string
    {
        $at = strpos($this->path, '?');
        return $at === false ? $this->path : substr($this->path, 0, $at);
    }

    /** @return array<string, string|list<string>> */
    public function headers(): array
    {
        return $this->headers;
    }

    /** The raw body, exactly as received. */
    public function body(): string
    {
        return $this->body;
    }

    /** @return array<string, mixed> */
    public function __debugInfo(): array
    {
        $headers = [];
        foreach ($this->headers as $name => $value) {
            $headers[$name] = strcasecmp((string) $name, 'Authorization') === 0 ? '***' : $value;
        }
        return ['method' => $this->method, 'path' => $this->path, 'headers' => $headers, 'body' => $this->body];
    }
}
