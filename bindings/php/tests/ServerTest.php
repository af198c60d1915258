<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\InvalidArgumentException;
use SnapB2B\KeyException;
use SnapB2B\Server;
use SnapB2B\ServerRequest;
use SnapB2B\ServerResponse;
use SnapB2B\Verdict;
use SnapB2B\Tests\Support\Keys;
use SnapB2B\Tests\Support\Provider;

/**
 * The merchant's side: SnapB2B\Server answers token requests and checks
 * notifications signed with PHP's openssl_sign(), never by snapb2b itself.
 */
final class ServerTest extends TestCase
{
    private Server $server;

    protected function setUp(): void
    {
        $this->server = new Server(Provider::config());
    }

    public function testTokenRequestSignedByOpensslGetsAJwt(): void
    {
        $ts = Provider::wib();
        $answer = $this->server->tokenResponse('POST', Provider::TOKEN_PATH, Provider::tokenHeaders(null, $ts), Provider::GRANT);
        self::assertInstanceOf(ServerResponse::class, $answer);
        self::assertTrue($answer->accepted(), $answer->reason());
        self::assertSame(200, $answer->httpStatus());
        self::assertSame(Provider::PARTNER, $answer->clientId());
        self::assertSame('application/json', $answer->headers()['Content-Type']);
        self::assertSame($ts, $answer->headers()['X-TIMESTAMP']);
        $body = json_decode((string) $answer->body(), true);
        self::assertSame('2007300', $body['responseCode']);
        self::assertSame('Bearer', $body['tokenType']);
        $claims = Provider::jwtClaims($body['accessToken']);
        self::assertSame(Provider::PARTNER, $claims['sub']);
        self::assertSame(900, $claims['exp'] - $claims['iat']);
        // The token is in the body, never in var_dump/print_r.
        self::assertStringNotContainsString($body['accessToken'], print_r($answer, true));
    }

    public function testNotificationAcceptedOnceThenReplay(): void
    {
        $token = Provider::issue($this->server);
        $headers = Provider::notification($token, Provider::BODY, 'ext-php-1');
        $verdict = $this->server->check('POST', Provider::NOTIFY_PATH, $headers, Provider::BODY, '25');
        self::assertInstanceOf(Verdict::class, $verdict);
        self::assertTrue($verdict->accepted(), $verdict->reason());
        self::assertNull($verdict->body());
        self::assertSame('ext-php-1', $verdict->externalId());
        self::assertSame(Provider::PARTNER, $verdict->clientId());
        $again = $this->server->check('POST', Provider::NOTIFY_PATH, $headers, Provider::BODY, '25');
        self::assertFalse($again->accepted());
        self::assertSame(409, $again->httpStatus());
        self::assertSame('4092500', json_decode((string) $again->body(), true)['responseCode']);
    }

    public function testTamperedBodyIsRefusedAndDoesNotBurnTheId(): void
    {
        $token = Provider::issue($this->server);
        $headers = Provider::notification($token, Provider::BODY, 'ext-php-2');
        $tampered = str_replace('10000.00', '99999.00', Provider::BODY);
        $verdict = $this->server->check('POST', Provider::NOTIFY_PATH, $headers, $tampered, '25');
        self::assertSame(401, $verdict->httpStatus());
        self::assertSame(['responseCode' => '4012500', 'responseMessage' => 'Unauthorized. Signature'], json_decode((string) $verdict->body(), true));
        self::assertTrue($this->server->check('POST', Provider::NOTIFY_PATH, $headers, Provider::BODY, '25')->accepted());
    }

    public function testHeadersInAnyCaseAsListsAndThroughServerRequest(): void
    {
        $headers = [];
        foreach (Provider::tokenHeaders() as $name => $value) {
            $headers[strtolower($name)] = [$value]; // PSR-7 style
        }
        $request = new ServerRequest('POST', Provider::TOKEN_PATH, $headers, Provider::GRANT);
        self::assertTrue($this->server->tokenResponseTo($request)->accepted());
    }

    public function testDuplicateHeaderIsNotPickedSilently(): void
    {
        $headers = Provider::tokenHeaders();
        $headers['x-signature'] = 'AAAA';
        $answer = $this->server->tokenResponse('POST', Provider::TOKEN_PATH, $headers, Provider::GRANT);
        self::assertFalse($answer->accepted());
        self::assertSame(401, $answer->httpStatus());
    }

    public function testUnknownClient(): void
    {
        $answer = $this->server->tokenResponse('POST', Provider::TOKEN_PATH, Provider::tokenHeaders('SOMEONE-ELSE'), Provider::GRANT);
        self::assertSame(401, $answer->httpStatus());
        self::assertSame(['responseCode' => '4017300', 'responseMessage' => 'Unauthorized. Unknown Client'], json_decode((string) $answer->body(), true));
        self::assertNull($answer->clientId());
    }

    /** @return array<string, array{string, int, string}> */
    public static function badTimestamps(): array
    {
        return [
            'not a time' => ['yesterday', 400, '4007301'],
            'no offset' => ['2024-01-01T10:00:00', 400, '4007301'],
            'stale' => [Provider::wib(-3600), 401, '4017300'],
        ];
    }

    /** @dataProvider badTimestamps */
    public function testBadTimestamp(string $ts, int $status, string $code): void
    {
        $answer = $this->server->tokenResponse('POST', Provider::TOKEN_PATH, Provider::tokenHeaders(null, $ts), Provider::GRANT);
        self::assertFalse($answer->accepted());
        self::assertSame([$status, $code], [$answer->httpStatus(), json_decode((string) $answer->body(), true)['responseCode']]);
    }

    /** @return array<string, array{string}> */
    public static function tokenHeaderNames(): array
    {
        return ['X-CLIENT-KEY' => ['X-CLIENT-KEY'], 'X-TIMESTAMP' => ['X-TIMESTAMP'], 'X-SIGNATURE' => ['X-SIGNATURE']];
    }

    /** @dataProvider tokenHeaderNames */
    public function testTokenRequestMissingHeader(string $missing): void
    {
        $headers = Provider::tokenHeaders();
        unset($headers[$missing]);
        $answer = $this->server->tokenResponse('POST', Provider::TOKEN_PATH, $headers, Provider::GRANT);
        self::assertSame(400, $answer->httpStatus());
        self::assertSame(['responseCode' => '4007302', 'responseMessage' => 'Invalid Mandatory Field ' . $missing], json_decode((string) $answer->body(), true));
    }

    /** @return array<string, array{string}> */
    public static function notificationHeaderNames(): array
    {
        return ['X-TIMESTAMP' => ['X-TIMESTAMP'], 'X-SIGNATURE' => ['X-SIGNATURE'], 'X-EXTERNAL-ID' => ['X-EXTERNAL-ID']];
    }

    /** @dataProvider notificationHeaderNames */
    public function testNotificationMissingHeader(string $missing): void
    {
        $headers = Provider::notification(Provider::issue($this->server), Provider::BODY, 'ext-php-3');
        unset($headers[$missing]);
        $verdict = $this->server->check('POST', Provider::NOTIFY_PATH, $headers, Provider::BODY, '25');
        self::assertSame([400, '4002502'], [$verdict->httpStatus(), json_decode((string) $verdict->body(), true)['responseCode']]);
    }

    public function testNoTokenAndForeignToken(): void
    {
        $headers = Provider::notification(Provider::issue($this->server), Provider::BODY, 'ext-php-4');
        $withoutToken = $headers;
        unset($withoutToken['Authorization']);
        $verdict = $this->server->check('POST', Provider::NOTIFY_PATH, $withoutToken, Provider::BODY);
        self::assertSame([401, '4010001'], [$verdict->httpStatus(), json_decode((string) $verdict->body(), true)['responseCode']]);
        $other = new Server(array_replace(Provider::config(), ['token_secret' => str_repeat('o', 40)]));
        $foreign = $other->check('POST', Provider::NOTIFY_PATH, $headers, Provider::BODY, '25');
        self::assertSame([401, '4012501'], [$foreign->httpStatus(), json_decode((string) $foreign->body(), true)['responseCode']]);
    }

    public function testBadBytesAndNulFromTheSenderAreRefusalsNotExceptions(): void
    {
        $headers = Provider::notification(Provider::issue($this->server), Provider::BODY, "ext-\0-5");
        $verdict = $this->server->check('POST', Provider::NOTIFY_PATH, $headers, "{\"a\":\"\xff\0\"}", '25');
        self::assertFalse($verdict->accepted());
        self::assertSame(401, $verdict->httpStatus());
    }

    /** @return array<string, array{array<string, mixed>, string}> */
    public static function badConfigs(): array
    {
        return [
            'no partners' => [['partners' => []], 'partners'],
            'short secret' => [['token_secret' => 'short-s3cret'], 'token_secret'],
            'ttl' => [['token_ttl_s' => 0], 'token_ttl_s'],
            'skew' => [['max_skew_s' => '300'], 'max_skew_s'],
            'replay file in a missing directory' => [['replay_file' => '/nonexistent-dir/replay'], 'replay_file'],
            'unknown key' => [['colour' => 'blue'], 'colour'],
        ];
    }

    /**
     * @dataProvider badConfigs
     *
     * @param array<string, mixed> $change
     */
    public function testConfigErrorsNameTheKey(array $change, string $key): void
    {
        try {
            new Server(array_replace(Provider::config(), $change));
            self::fail('no exception');
        } catch (InvalidArgumentException $e) {
            self::assertStringContainsString($key, $e->getMessage());
            self::assertStringNotContainsString('s3cret', $e->getMessage());
        }
    }

    public function testConfigAsJsonTextAndKeyErrors(): void
    {
        $server = new Server((string) json_encode(Provider::config()));
        self::assertTrue($server->tokenResponse('POST', Provider::TOKEN_PATH, Provider::tokenHeaders(), Provider::GRANT)->accepted());
        $this->expectException(KeyException::class);
        new Server(['partners' => [['client_id' => 'A', 'public_key' => 'not a key']]]);
    }

    public function testArgumentErrors(): void
    {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('service_code');
        $this->server->check('POST', Provider::NOTIFY_PATH, [], '{}', '2');
    }

    public function testNonStringHeaderIsRefused(): void
    {
        $this->expectException(InvalidArgumentException::class);
        $this->server->check('POST', Provider::NOTIFY_PATH, ['X-TIMESTAMP' => 5], '{}');
    }

    public function testNoSecretInDumpsAndNoSerialization(): void
    {
        $config = Provider::config();
        $config['partners'][0]['client_secret'] = 'hmac-secret-value-123';
        $server = new Server($config);
        $dump = print_r($server, true) . var_export($server, true);
        self::assertStringNotContainsString('hmac-secret', $dump);
        self::assertStringNotContainsString(Provider::TOKEN_SECRET, $dump);
        $request = new ServerRequest('POST', '/x', ['Authorization' => 'Bearer very-secret-token'], '{}');
        self::assertStringNotContainsString('very-secret-token', print_r($request, true));
        $this->expectException(\LogicException::class);
        serialize($server);
    }

    public function testFromGlobalsWithAnExplicitServerArray(): void
    {
        $server = [
            'REQUEST_METHOD' => 'POST',
            'REQUEST_URI' => '/v1.0/transfer-va/payment?x=1',
            'HTTP_X_TIMESTAMP' => 'now',
            'CONTENT_TYPE' => 'application/json',
            'argv' => ['ignored'],
        ];
        $request = ServerRequest::fromGlobals($server, '{"a":1}');
        self::assertSame('POST', $request->method());
        self::assertSame('/v1.0/transfer-va/payment?x=1', $request->path());
        self::assertSame('/v1.0/transfer-va/payment', $request->route());
        self::assertSame(['X-TIMESTAMP' => 'now', 'CONTENT-TYPE' => 'application/json'], $request->headers());
        self::assertSame('{"a":1}', $request->body());
    }

    public function testSendNeedsABodyForAnAcceptedNotification(): void
    {
        $verdict = Verdict::fromJson('{"accepted":true,"http_status":200,"headers":{},"body":null,"client_id":"A","external_id":"1","reason":"accepted"}');
        $this->expectException(\LogicException::class);
        $verdict->send();
    }
}
