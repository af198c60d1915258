<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\InvalidArgumentException;
use SnapB2B\ProviderException;
use SnapB2B\Token;
use SnapB2B\TokenClient;
use SnapB2B\Tests\Support\Sandbox;

/**
 * Provider profiles through the PHP binding against the sandbox: a user
 * profile for a bank without a preset, Midtrans, Klikoo's own codes with
 * their hints, additionalInfo and the token's own type.
 */
final class ProfileTest extends TestCase
{
    public function testUserProfileForABankWithoutAPreset(): void
    {
        // Bank Neo Commerce's "Direct Debit - Get Access Token" page: POST
        // /open/bi/1.0.0/get/token, SNAP X-* headers and signature, body grant_type.
        $config = Sandbox::config('bnc');
        unset($config['provider'], $config['profile']);
        $config['profile'] = [
            'name' => 'bnc',
            'token_path' => '/open/bi/1.0.0/get/token',
            'timestamp_style' => 'wib',
            'body' => ['grant_type_key' => 'grant_type'],
        ];
        $token = (new TokenClient($config))->getToken();
        self::assertSame('bnc', $token->getProvider());
        self::assertSame(900, $token->getExpiresIn());
    }

    public function testMidtransRefusesCamelCaseGrantType(): void
    {
        $config = Sandbox::config('midtrans');
        self::assertSame('midtrans', (new TokenClient($config))->getToken()->getProvider());
        $config['profile'] = ['body' => ['grant_type_key' => 'grantType']];
        try {
            (new TokenClient($config))->getToken();
            self::fail('accepted');
        } catch (ProviderException $e) {
            self::assertSame([400, '4007302'], [$e->getHttpStatus(), $e->getResponseCode()]);
        }
    }

    public function testUnknownProfileKeyIsRefusedByName(): void
    {
        $config = Sandbox::config('snap');
        $config['profile'] = ['tokenPath' => '/x'];
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('unknown profile key `tokenPath`');
        new TokenClient($config);
    }

    /** @return array<string, array{0: array<string, string>, 1: int, 2: string, 3: string, 4: string}> */
    public function klikooCodes(): array
    {
        return [
            'waktu' => [['client_id' => 'FAULT-CLOCK'], 400, '400016505', 'Waktu tidak sesuai', 'timestamp'],
            'uuid' => [['client_id' => 'merchant-01'], 400, '400016568', 'UUID tidak sesuai', 'UUID'],
            'kredensial' => [['client_secret' => str_repeat('0', 32)], 401, '401016570', 'Kredensial tidak sesuai', 'client_secret'],
            'whitelist' => [['client_id' => 'FAULT-IP'], 403, '403016571', 'IP tidak ada di dalam whitelist', 'whitelist'],
        ];
    }

    /**
     * @dataProvider klikooCodes
     * @param array<string, string> $overrides
     */
    public function testKlikooCodesGetTheirHints(array $overrides, int $http, string $code, string $message, string $hint): void
    {
        $config = array_merge(Sandbox::config('klikoo'), $overrides);
        try {
            (new TokenClient($config))->getToken();
            self::fail('accepted');
        } catch (ProviderException $e) {
            self::assertSame([$http, $code, $message], [$e->getHttpStatus(), $e->getResponseCode(), $e->getResponseMessage()]);
            self::assertStringContainsString($hint, (string) $e->getHint());
        }
    }

    public function testAdditionalInfoAndTheTokensOwnType(): void
    {
        $token = (new TokenClient(Sandbox::config('snap')))->getToken();
        self::assertSame(['bankCode' => 'SANDBOX', 'channel' => 'b2b'], $token->getAdditionalInfo());
        self::assertNull((new TokenClient(Sandbox::config('doku')))->getToken()->getAdditionalInfo());
        $mac = new Token('snap', 'tok-123', 'Mac', 900, time() + 900);
        self::assertSame('Mac tok-123', $mac->authorizationHeader());
    }

    public function testBase64PemKey(): void
    {
        $config = Sandbox::config('midtrans');
        unset($config['private_key_file']);
        $config['private_key'] = base64_encode(Sandbox::privateKey());
        self::assertSame('midtrans', (new TokenClient($config))->getToken()->getProvider());
    }
}
