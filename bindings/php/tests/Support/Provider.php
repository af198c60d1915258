<?php

declare(strict_types=1);

namespace SnapB2B\Tests\Support;

use SnapB2B\Server;

/**
 * A provider calling the merchant: its key, and requests signed with PHP's
 * openssl_sign() (an implementation independent of snapb2b).
 */
final class Provider
{
    public const PARTNER = 'DOKU-PROVIDER';
    public const TOKEN_SECRET = 'merchant-token-secret-0123456789abcdef';
    public const TOKEN_PATH = '/v1.0/access-token/b2b';
    public const NOTIFY_PATH = '/v1.0/transfer-va/payment';
    public const GRANT = '{"grantType":"client_credentials"}';
    public const BODY = '{"partnerServiceId":"   12345","customerNo":"0001","virtualAccountNo":"   123450001","paidAmount":{"value":"10000.00","currency":"IDR"}}';

    public static function key(): string
    {
        return Keys::shared(0);
    }

    /** @return array<string, mixed> */
    public static function config(): array
    {
        return [
            'partners' => [['client_id' => self::PARTNER, 'public_key' => Keys::publicKey(self::key())]],
            'token_secret' => self::TOKEN_SECRET,
        ];
    }

    public static function wib(int $offsetS = 0): string
    {
        return (new \DateTimeImmutable('@' . (time() + $offsetS)))
            ->setTimezone(new \DateTimeZone('+07:00'))
            ->format('Y-m-d\TH:i:sP');
    }

    public static function sign(string $data): string
    {
        if (!openssl_sign($data, $signature, self::key(), OPENSSL_ALGO_SHA256)) {
            throw new \RuntimeException('openssl_sign failed');
        }
        return base64_encode($signature);
    }

    /** @return array<string, string> */
    public static function tokenHeaders(?string $client = null, ?string $ts = null): array
    {
        $client = $client ?? self::PARTNER;
        $ts = $ts ?? self::wib();
        return ['X-CLIENT-KEY' => $client, 'X-TIMESTAMP' => $ts, 'X-SIGNATURE' => self::sign($client . '|' . $ts)];
    }

    /**
     * An RSA-signed notification: SHA256withRSA over
     * POST:path:lowercase(hex(sha256(minified body))):timestamp (the bodies
     * here are already minified).
     *
     * @return array<string, string>
     */
    public static function notification(string $token, string $body, string $externalId, string $path = self::NOTIFY_PATH): array
    {
        $ts = self::wib();
        return [
            'Content-Type' => 'application/json',
            'Authorization' => 'Bearer ' . $token,
            'X-TIMESTAMP' => $ts,
            'X-SIGNATURE' => self::sign('POST:' . $path . ':' . strtolower(hash('sha256', $body)) . ':' . $ts),
            'X-PARTNER-ID' => self::PARTNER,
            'X-EXTERNAL-ID' => $externalId,
            'CHANNEL-ID' => '95221',
        ];
    }

    public static function issue(Server $server): string
    {
        $answer = $server->tokenResponse('POST', self::TOKEN_PATH, self::tokenHeaders(), self::GRANT);
        if (!$answer->accepted()) {
            throw new \RuntimeException('token refused: ' . $answer->reason());
        }
        return json_decode((string) $answer->body(), true)['accessToken'];
    }

    /** @return array<string, mixed> the JWT's payload (base64url) */
    public static function jwtClaims(string $jwt): array
    {
        $payload = explode('.', $jwt)[1];
        return json_decode((string) base64_decode(strtr($payload, '-_', '+/'), true), true);
    }
}
