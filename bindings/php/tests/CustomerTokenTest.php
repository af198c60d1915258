<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\CustomerToken;
use SnapB2B\InvalidArgumentException;
use SnapB2B\ProviderException;
use SnapB2B\TokenClient;
use SnapB2B\Tests\Support\Sandbox;

/**
 * TokenClient::customerToken() and request(..., $customerToken) against the
 * sandbox: its auth codes (SANDBOX-AUTH-<customer id>, each taken once), its
 * refresh tokens (each taken once), and its Authorization-Customer check on
 * service calls.
 */
final class CustomerTokenTest extends TestCase
{
    private const SECRET = 'sandbox0secret0klikoo00000000000';
    private const VA_PATH = '/v1.0/transfer-va/inquiry';
    private const VA_BODY = '{"partnerServiceId":"  088899","customerNo":"1","virtualAccountNo":"  0888991","inquiryRequestId":"x"}';

    private static function client(string $provider = 'snap'): TokenClient
    {
        return new TokenClient(array_replace(Sandbox::config($provider), ['client_secret' => self::SECRET, 'channel_id' => '95221']));
    }

    /** Unique per run: the sandbox may outlive this run and takes each code once. */
    private static function customer(string $name): string
    {
        return sprintf('%s-%d-%s', $name, getmypid(), bin2hex(random_bytes(4)));
    }

    public function testAnAuthCodeThenARefreshGetNewTokens(): void
    {
        self::assertSame('SANDBOX-AUTH-', Sandbox::info()['auth_code_prefix']);
        $client = self::client('doku');
        $who = self::customer('php');
        $first = $client->customerToken('SANDBOX-AUTH-' . $who, null, ['channel' => 'web']);
        self::assertInstanceOf(CustomerToken::class, $first);
        self::assertSame('doku', $first->getProvider());
        self::assertSame('2007400', $first->getResponseCode());
        self::assertSame($who, $first->getCustomerId());
        self::assertSame(['channel' => 'web', 'customerId' => $who], $first->getAdditionalInfo());
        self::assertEqualsWithDelta(time() + 900, $first->getAccessTokenExpiresAt(), 10);
        self::assertGreaterThan($first->getAccessTokenExpiresAt(), $first->getRefreshTokenExpiresAt());
        self::assertSame('Bearer ' . $first->getAccessToken(), $first->authorizationHeader());
        self::assertSame($first->getRefreshToken(), $first->refreshToken);
        // Masked wherever it could be logged.
        $shown = print_r($first, true) . (string) $first . json_encode($first);
        self::assertStringNotContainsString($first->getAccessToken(), $shown);
        self::assertStringNotContainsString((string) $first->getRefreshToken(), $shown);

        $second = $client->customerToken(null, $first->getRefreshToken(), null, 5000);
        self::assertSame($who, $second->getCustomerId());
        self::assertNotSame($first->getAccessToken(), $second->getAccessToken());
        try {
            $client->customerToken(null, $first->getRefreshToken());
            self::fail('a used refresh token was accepted');
        } catch (ProviderException $e) {
            self::assertSame(401, $e->getHttpStatus());
            self::assertSame('4017400', $e->getResponseCode());
            self::assertStringNotContainsString((string) $first->getRefreshToken(), $e->getMessage());
        }
    }

    public function testAServiceCallCarriesTheCustomerToken(): void
    {
        $client = self::client();
        $token = $client->customerToken('SANDBOX-AUTH-' . self::customer('call'));
        $ok = $client->request('POST', self::VA_PATH, self::VA_BODY, [], null, null, $token->getAccessToken());
        self::assertSame(200, $ok->httpStatus());
        $bad = $client->request('POST', self::VA_PATH, self::VA_BODY, [], null, null, 'bm90LWlzc3VlZA');
        self::assertSame([401, "4012402", false], [$bad->httpStatus(), $bad->responseCode(), $bad->tokenRenewed()]);
    }

    public function testAnUnknownCodeIsTheProvidersRefusal(): void
    {
        try {
            self::client()->customerToken('NOT-A-SANDBOX-CODE');
            self::fail('an unknown code was accepted');
        } catch (ProviderException $e) {
            self::assertSame('4017400', $e->getResponseCode());
            self::assertSame('Unauthorized. Invalid Auth Code', $e->getResponseMessage());
            self::assertStringNotContainsString('NOT-A-SANDBOX-CODE', $e->getMessage());
        }
    }

    /** @return array<string, array{0: ?string, 1: ?string, 2: string}> */
    public static function badGrants(): array
    {
        return [
            'neither' => [null, null, 'needs `auth_code`'],
            'both' => ['a', 'b', 'exactly one'],
            'space' => ['a b', null, '`auth_code` must be'],
            'oversize' => [str_repeat('x', 2049), null, '`auth_code` must be'],
            'header injection' => [null, "r\r\nX: 1", '`refresh_token` must be an RFC 6750 token'],
            'NUL' => ["a\0b", null, '`auth_code` must be'],
        ];
    }

    /** @dataProvider badGrants */
    public function testBadGrantsAreInvalidArgument(?string $code, ?string $refresh, string $words): void
    {
        try {
            self::client()->customerToken($code, $refresh);
            self::fail('accepted');
        } catch (InvalidArgumentException $e) {
            self::assertStringContainsString($words, $e->getMessage());
        }
    }

    public function testAProviderWithoutTheEndpoint(): void
    {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('no customer (B2B2C) token endpoint');
        self::client('nicepay')->customerToken('SANDBOX-AUTH-x');
    }

    public function testTheResultJsonMustHaveItsShape(): void
    {
        $this->expectException(\SnapB2B\InternalException::class);
        CustomerToken::fromJson('{"provider":"snap","access_token":"a","token_type":"Bearer","refresh_token":5}');
    }
}
