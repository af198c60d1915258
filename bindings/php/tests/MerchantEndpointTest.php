<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\Tests\Support\Keys;
use SnapB2B\Tests\Support\Paths;
use SnapB2B\Tests\Support\Php;
use SnapB2B\Tests\Support\Provider;

/**
 * examples/merchant_endpoint.php end to end: started as a user would (its
 * --port form, which becomes PHP's built-in server with itself as router,
 * so ServerRequest::fromGlobals() and send() run in a real SAPI), spoken to
 * over HTTP with PHP streams, requests signed with openssl_sign().
 */
final class MerchantEndpointTest extends TestCase
{
    private string $dir;

    /** @var resource|null */
    private $process = null;

    /** @var array<int, resource> */
    private array $pipes = [];

    private string $base = '';

    protected function setUp(): void
    {
        $this->dir = Paths::tempDir('snapb2b-endpoint');
        file_put_contents($this->dir . '/provider.pem', Keys::publicKey(Provider::key()));
        file_put_contents($this->dir . '/token-secret', str_repeat('t', 40) . "\n");
        file_put_contents($this->dir . '/server.json', json_encode([
            'partners' => [['client_id' => Provider::PARTNER, 'public_key_file' => $this->dir . '/provider.pem']],
            'token_secret_file' => $this->dir . '/token-secret',
        ]));
    }

    protected function tearDown(): void
    {
        $this->stop();
        Paths::removeTree($this->dir);
    }

    /** Starts the example on a free port; a port taken between the probe and the start is retried. */
    private function start(): void
    {
        for ($attempt = 0; $attempt < 5; $attempt++) {
            $probe = stream_socket_server('tcp://127.0.0.1:0');
            self::assertIsResource($probe);
            $port = (int) substr((string) strrchr((string) stream_socket_get_name($probe, false), ':'), 1);
            fclose($probe);
            $env = getenv();
            $env['SNAPB2B_SERVER_CONFIG'] = $this->dir . '/server.json';
            $process = proc_open(
                [PHP_BINARY, '-d', 'ffi.enable=1', Paths::repoRoot() . '/examples/merchant_endpoint.php', '--port', (string) $port],
                [0 => ['file', '/dev/null', 'r'], 1 => ['file', $this->dir . '/stdout', 'w'], 2 => ['file', $this->dir . '/stderr', 'w']],
                $this->pipes,
                null,
                $env
            );
            self::assertIsResource($process);
            $this->process = $process;
            $deadline = microtime(true) + 10;
            while (microtime(true) < $deadline && proc_get_status($process)['running']) {
                $socket = @stream_socket_client('tcp://127.0.0.1:' . $port, $errno, $error, 0.2);
                if ($socket !== false) {
                    fclose($socket);
                    $this->base = 'http://127.0.0.1:' . $port;
                    return;
                }
                usleep(50000);
            }
            $this->stop();
        }
        self::fail('the endpoint did not start: ' . @file_get_contents($this->dir . '/stderr'));
    }

    private function stop(): void
    {
        if ($this->process !== null) {
            proc_terminate($this->process);
            proc_close($this->process);
            $this->process = null;
        }
    }

    /**
     * @param array<string, string> $headers
     *
     * @return array{int, array<string, string>, string}
     */
    private function post(string $path, array $headers, string $body): array
    {
        $lines = [];
        $headers += ['Content-Type' => 'application/json']; // else PHP's stream warns and assumes a form
        foreach ($headers as $name => $value) {
            $lines[] = $name . ': ' . $value;
        }
        $context = stream_context_create(['http' => [
            'method' => 'POST',
            'header' => implode("\r\n", $lines),
            'content' => $body,
            'ignore_errors' => true, // 4xx answers are read, not turned into warnings
            'timeout' => 10,
        ]]);
        $answer = file_get_contents($this->base . $path, false, $context);
        self::assertIsString($answer);
        $status = 0;
        $received = [];
        foreach ($http_response_header as $line) {
            if (preg_match('#^HTTP/\S+ (\d{3})#', $line, $m) === 1) {
                $status = (int) $m[1];
            } elseif (strpos($line, ':') !== false) {
                [$name, $value] = explode(':', $line, 2);
                $received[strtolower($name)] = trim($value);
            }
        }
        return [$status, $received, $answer];
    }

    public function testTokenThenNotificationOverHttp(): void
    {
        $this->start();
        [$status, $headers, $body] = $this->post(Provider::TOKEN_PATH, Provider::tokenHeaders() + ['Content-Type' => 'application/json'], Provider::GRANT);
        self::assertSame(200, $status, $body);
        self::assertSame(Provider::PARTNER, $headers['x-client-key']);
        self::assertSame((string) strlen($body), $headers['content-length']);
        $token = json_decode($body, true)['accessToken'];
        self::assertSame(Provider::PARTNER, Provider::jwtClaims($token)['sub']);

        // Another request, so another Server object: the token holds through the shared token_secret_file.
        [$status, , $body] = $this->post(Provider::NOTIFY_PATH, Provider::notification($token, Provider::BODY, 'ext-http-1'), Provider::BODY);
        self::assertSame([200, '{"responseCode":"2002500","responseMessage":"Successful"}'], [$status, $body]);

        $tampered = str_replace('10000.00', '1.00', Provider::BODY);
        [$status, , $body] = $this->post(Provider::NOTIFY_PATH, Provider::notification($token, Provider::BODY, 'ext-http-2'), $tampered);
        self::assertSame([401, '4012500'], [$status, json_decode($body, true)['responseCode']]);

        [$status, , $body] = $this->post(Provider::NOTIFY_PATH, ['Content-Type' => 'application/json'], '{}');
        self::assertSame([401, '4012501'], [$status, json_decode($body, true)['responseCode']]);

        [$status, , $body] = $this->post(Provider::TOKEN_PATH, Provider::tokenHeaders('NOBODY'), Provider::GRANT);
        self::assertSame([401, '4017300'], [$status, json_decode($body, true)['responseCode']]);

        $this->stop();
        $log = (string) file_get_contents($this->dir . '/stdout');
        $lines = explode("\n", trim($log));
        self::assertCount(5, $lines, $log);
        self::assertStringStartsWith('POST ' . Provider::TOKEN_PATH . ' -> 200 client=' . Provider::PARTNER . ' token issued', $lines[0]);
        self::assertSame('POST ' . Provider::NOTIFY_PATH . ' -> 200 client=' . Provider::PARTNER . ' accepted', $lines[1]);
        self::assertStringStartsWith('POST ' . Provider::NOTIFY_PATH . ' -> 401 client=' . Provider::PARTNER . ' ', $lines[2]);
        self::assertStringStartsWith('POST ' . Provider::NOTIFY_PATH . ' -> 401 client=- ', $lines[3]);
        self::assertStringStartsWith('POST ' . Provider::TOKEN_PATH . ' -> 401 client=- ', $lines[4]);
        self::assertStringNotContainsString(explode('.', $token)[2], $log . file_get_contents($this->dir . '/stderr'));
    }

    public function testWithoutConfigItSaysWhatToSet(): void
    {
        [$code, , $err] = Php::run([PHP_BINARY, Paths::repoRoot() . '/examples/merchant_endpoint.php'], ['SNAPB2B_SERVER_CONFIG' => null]);
        self::assertSame(2, $code);
        self::assertStringContainsString('SNAPB2B_SERVER_CONFIG', $err);
    }
}
