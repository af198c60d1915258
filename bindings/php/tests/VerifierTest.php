<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\InvalidArgumentException;
use SnapB2B\KeyException;
use SnapB2B\Signer;
use SnapB2B\SnapException;
use SnapB2B\Status;
use SnapB2B\Verifier;
use SnapB2B\Tests\Support\Keys;

/**
 * Verifier: accepts valid signatures (made by the library and by
 * openssl_sign()/hash_hmac()), returns false for tampered data, swapped or
 * stale timestamps, wrong keys and wrong secrets, and throws for unreadable
 * keys and bad arguments. Public keys in every accepted form.
 */
final class VerifierTest extends TestCase
{
    private const PATH = '/v1.0/transfer-va/notify-payment-intrabank';
    private const BODY = "{\n  \"partnerServiceId\": \"  088899\",\n  \"virtualAccountNo\": \"  08889912345678901234\",\n"
        . "  \"paidAmount\": {\"value\": \"10000.00\", \"currency\": \"IDR\"},\n  \"url\": \"https:\\/\\/x.y/z\"\n}";


    private static function key(): string
    {
        return Keys::shared(0);
    }

    private static function otherKey(): string
    {
        return Keys::shared(1);
    }

    /** A WIB timestamp $offset seconds from now. */
    private static function timestamp(int $offset = 0): string
    {
        return (new \DateTimeImmutable('@' . (time() + $offset)))
            ->setTimezone(new \DateTimeZone('+07:00'))
            ->format('Y-m-d\TH:i:sP');
    }

    /** @return array<string, array{0: callable(string): string}> */
    public function publicKeyForms(): array
    {
        return [
            'SPKI PEM' => [static fn (string $key): string => Keys::publicKey($key)],
            'PKCS#1 PEM' => [static fn (string $key): string => Keys::publicKeyPkcs1($key)],
            'X.509 certificate PEM' => [static fn (string $key): string => Keys::certificate($key)],
            'bare base64 SPKI DER' => [static fn (string $key): string => Keys::bareBase64(Keys::publicKey($key))],
            'bare base64 PKCS#1 DER' => [static fn (string $key): string => Keys::bareBase64(Keys::publicKeyPkcs1($key))],
            'bare base64 certificate DER' => [static fn (string $key): string => Keys::bareBase64(Keys::certificate($key))],
            'SPKI PEM with CRLF' => [static fn (string $key): string => str_replace("\n", "\r\n", Keys::publicKey($key))],
        ];
    }

    /**
     * @dataProvider publicKeyForms
     *
     * @param callable(string): string $form
     */
    public function testTokenRequestSignatures(callable $form): void
    {
        $public = $form(self::key());
        $wrong = $form(self::otherKey());
        $clientId = 'BRN-0001-' . random_int(1000000000, 9999999999);
        $timestamp = self::timestamp();
        $signature = Signer::sign(self::key(), $clientId, $timestamp);
        $openssl = Keys::opensslSignature(self::key(), $clientId . '|' . $timestamp);

        self::assertTrue(Verifier::verify($public, $clientId, $timestamp, $signature));
        self::assertTrue(Verifier::verify($public, $clientId, $timestamp, $openssl), 'made by openssl_sign');
        self::assertFalse(Verifier::verify($wrong, $clientId, $timestamp, $signature), 'wrong key');
        self::assertFalse(Verifier::verify($public, $clientId . 'X', $timestamp, $signature), 'another client id');
        self::assertFalse(Verifier::verify($public, $clientId, self::timestamp(1), $signature), 'another timestamp');
        self::assertFalse(Verifier::verify($public, $clientId, $timestamp, base64_encode(str_repeat("\1", 256))), 'garbage signature');
        self::assertFalse(Verifier::verify($public, $clientId, $timestamp, 'not base64!'), 'not base64');
        self::assertFalse(Verifier::verify($public, $clientId, $timestamp, ''), 'empty signature');

        $stale = self::timestamp(-600);
        $staleSignature = Signer::sign(self::key(), $clientId, $stale);
        self::assertFalse(Verifier::verify($public, $clientId, $stale, $staleSignature, 300), '10 minutes old');
        self::assertFalse(Verifier::verify($public, $clientId, $stale, $staleSignature), '10 minutes old, default window');
        self::assertTrue(Verifier::verify($public, $clientId, $stale, $staleSignature, 0), 'no freshness check');
        self::assertTrue(Verifier::verify($public, $clientId, $stale, $staleSignature, 900), 'a 15-minute window');
        $future = self::timestamp(600);
        self::assertFalse(Verifier::verify($public, $clientId, $future, Signer::sign(self::key(), $clientId, $future)), '10 minutes ahead');
        self::assertFalse(Verifier::verify($public, $clientId, 'yesterday', Signer::sign(self::key(), $clientId, 'yesterday'), 0), 'not a timestamp');
    }

    /**
     * @dataProvider publicKeyForms
     *
     * @param callable(string): string $form
     */
    public function testAsymmetricServiceSignatures(callable $form): void
    {
        $public = $form(self::key());
        $wrong = $form(self::otherKey());
        $timestamp = self::timestamp();
        $minified = Signer::minifyJson(self::BODY);
        $data = 'POST:' . self::PATH . ':' . hash('sha256', $minified) . ':' . $timestamp;
        $openssl = Keys::opensslSignature(self::key(), $data);
        $signature = Signer::serviceSignatureRsa(self::key(), 'POST', self::PATH, self::BODY, $timestamp);
        self::assertSame($openssl, $signature);

        self::assertTrue(Verifier::verifyServiceSignatureRsa($public, 'POST', self::PATH, self::BODY, $timestamp, $openssl), 'made by openssl_sign');
        self::assertTrue(Verifier::verifyServiceSignatureRsa($public, 'post', self::PATH, $minified, $timestamp, $openssl), 'minified body, lower-case method');
        self::assertFalse(
            Verifier::verifyServiceSignatureRsa($public, 'POST', self::PATH, json_decode(self::BODY, true), $timestamp, $openssl),
            'an array is re-encoded ("https:\\/\\/" becomes "https://"), so verify the body as received'
        );
        self::assertFalse(Verifier::verifyServiceSignatureRsa($wrong, 'POST', self::PATH, self::BODY, $timestamp, $openssl), 'wrong key');
        self::assertFalse(Verifier::verifyServiceSignatureRsa($public, 'POST', self::PATH, str_replace('10000.00', '90000.00', self::BODY), $timestamp, $openssl), 'tampered body');
        self::assertFalse(Verifier::verifyServiceSignatureRsa($public, 'POST', self::PATH, str_replace('  088899', '088899', self::BODY), $timestamp, $openssl), 'whitespace inside a string is signed');
        self::assertFalse(Verifier::verifyServiceSignatureRsa($public, 'POST', self::PATH, null, $timestamp, $openssl), 'body dropped');
        self::assertFalse(Verifier::verifyServiceSignatureRsa($public, 'PUT', self::PATH, self::BODY, $timestamp, $openssl), 'another method');
        self::assertFalse(Verifier::verifyServiceSignatureRsa($public, 'POST', self::PATH . '?x=1', self::BODY, $timestamp, $openssl), 'another path');
        self::assertFalse(Verifier::verifyServiceSignatureRsa($public, 'POST', self::PATH, self::BODY, self::timestamp(1), $openssl), 'swapped timestamp');

        $stale = self::timestamp(-600);
        $staleSignature = Keys::opensslSignature(self::key(), 'POST:' . self::PATH . ':' . hash('sha256', $minified) . ':' . $stale);
        self::assertFalse(Verifier::verifyServiceSignatureRsa($public, 'POST', self::PATH, self::BODY, $stale, $staleSignature, 300), 'stale');
        self::assertTrue(Verifier::verifyServiceSignatureRsa($public, 'POST', self::PATH, self::BODY, $stale, $staleSignature, 0), 'stale, no freshness check');

        // No body: the hash of "".
        $empty = Keys::opensslSignature(self::key(), 'GET:/v1.0/balance:' . hash('sha256', '') . ':' . $timestamp);
        self::assertTrue(Verifier::verifyServiceSignatureRsa($public, 'GET', '/v1.0/balance', null, $timestamp, $empty));
        self::assertTrue(Verifier::verifyServiceSignatureRsa($public, 'GET', '/v1.0/balance', '', $timestamp, $empty));
    }

    public function testSymmetricServiceSignatures(): void
    {
        $secret = bin2hex(random_bytes(16));
        $token = rtrim(strtr(base64_encode(random_bytes(48)), '+/', '-_'), '=');
        $timestamp = self::timestamp();
        $minified = Signer::minifyJson(self::BODY);
        $hmac = base64_encode(hash_hmac(
            'sha512',
            'POST:' . self::PATH . ':' . $token . ':' . hash('sha256', $minified) . ':' . $timestamp,
            $secret,
            true
        ));
        self::assertSame($hmac, Signer::serviceSignature($secret, 'POST', self::PATH, $token, self::BODY, $timestamp));

        self::assertTrue(Verifier::verifyServiceSignature($secret, 'POST', self::PATH, $token, self::BODY, $timestamp, $hmac));
        self::assertTrue(Verifier::verifyServiceSignature($secret, 'post', self::PATH, $token, $minified, $timestamp, $hmac, 60));
        self::assertFalse(Verifier::verifyServiceSignature($secret . 'x', 'POST', self::PATH, $token, self::BODY, $timestamp, $hmac), 'wrong secret');
        self::assertFalse(Verifier::verifyServiceSignature(strrev($secret), 'POST', self::PATH, $token, self::BODY, $timestamp, $hmac), 'wrong secret');
        self::assertFalse(Verifier::verifyServiceSignature($secret, 'POST', self::PATH, $token . 'x', self::BODY, $timestamp, $hmac), 'another token');
        self::assertFalse(Verifier::verifyServiceSignature($secret, 'POST', self::PATH, $token, str_replace('IDR', 'USD', self::BODY), $timestamp, $hmac), 'tampered body');
        self::assertFalse(Verifier::verifyServiceSignature($secret, 'POST', self::PATH, $token, self::BODY, self::timestamp(2), $hmac), 'swapped timestamp');
        self::assertFalse(Verifier::verifyServiceSignature($secret, 'POST', self::PATH, $token, self::BODY, $timestamp, substr($hmac, 0, -4)), 'truncated');
        self::assertFalse(Verifier::verifyServiceSignature($secret, 'POST', self::PATH, $token, self::BODY, $timestamp, 'x' . $hmac), 'not base64');
        // Requests that cannot be verified are refused like bad signatures.
        self::assertFalse(Verifier::verifyServiceSignature($secret, 'POST', self::PATH, $token, substr(self::BODY, 0, -1), $timestamp, $hmac), 'truncated body');
        self::assertFalse(Verifier::verifyServiceSignature($secret, 'POST', self::PATH, '', self::BODY, $timestamp, $hmac), 'no access token');

        $stale = self::timestamp(-600);
        $staleHmac = Signer::serviceSignature($secret, 'POST', self::PATH, $token, self::BODY, $stale);
        self::assertFalse(Verifier::verifyServiceSignature($secret, 'POST', self::PATH, $token, self::BODY, $stale, $staleHmac, 300), 'stale');
        self::assertTrue(Verifier::verifyServiceSignature($secret, 'POST', self::PATH, $token, self::BODY, $stale, $staleHmac, 0), 'stale, no freshness check');
    }

    /** @return array<string, array{0: string, 1: string}> key text, a word the message must contain */
    public function badPublicKeys(): array
    {
        $key = Keys::shared(0);
        $small = openssl_pkey_new(['private_key_bits' => 1024, 'private_key_type' => OPENSSL_KEYTYPE_RSA]);
        $smallPublic = openssl_pkey_get_details($small)['key'];
        $ec = openssl_pkey_new(['private_key_type' => OPENSSL_KEYTYPE_EC, 'curve_name' => 'prime256v1']);
        $ecPublic = openssl_pkey_get_details($ec)['key'];
        return [
            'garbage' => ['not a key at all', ''],
            'empty' => ['', ''],
            'private key' => [$key, 'private'],
            'RSA 1024' => [$smallPublic, '2048'],
            'EC key' => [$ecPublic, 'RSA'],
            'truncated PEM' => [substr(Keys::publicKey($key), 0, 200), ''],
        ];
    }

    /** @dataProvider badPublicKeys */
    public function testUnreadableKeysThrow(string $publicKey, string $mentioned): void
    {
        $timestamp = self::timestamp();
        $calls = [
            static fn () => Verifier::verify($publicKey, 'C', $timestamp, 'c2ln'),
            static fn () => Verifier::verifyServiceSignatureRsa($publicKey, 'POST', '/p', '{}', $timestamp, 'c2ln'),
        ];
        foreach ($calls as $i => $call) {
            try {
                $call();
                self::fail("call $i: expected KeyException");
            } catch (KeyException $e) {
                self::assertSame(Status::KEY, $e->getStatus());
                self::assertStringContainsString($mentioned, $e->getMessage());
                foreach (Keys::fragments($publicKey) as $fragment) {
                    self::assertStringNotContainsString($fragment, $e->getMessage(), 'the key is never echoed');
                }
            }
        }
    }

    public function testBadArgumentsThrow(): void
    {
        $public = Keys::publicKey(self::key());
        $timestamp = self::timestamp();
        $cases = [
            'negative skew (the library\'s rule)' => static fn () => Verifier::verify($public, 'C', $timestamp, 'c2ln', -1),
            'skew beyond a C int' => static fn () => Verifier::verifyServiceSignature('s', 'POST', '/p', 't', null, $timestamp, 'c2ln', 2147483648),
            'NUL in client id' => static fn () => Verifier::verify($public, "C\0D", $timestamp, 'c2ln'),
            'NUL in signature' => static fn () => Verifier::verifyServiceSignature('s', 'POST', '/p', 't', null, $timestamp, "c2ln\0"),
            'invalid UTF-8 client id' => static fn () => Verifier::verify($public, "C\xff", $timestamp, 'c2ln'),
            'body of another type' => static fn () => Verifier::verifyServiceSignature('s', 'POST', '/p', 't', 1.5, $timestamp, 'c2ln'),
            'bad method' => static fn () => Verifier::verifyServiceSignature('s', 'P0ST', '/p', 't', null, $timestamp, 'c2ln'),
            'empty secret' => static fn () => Verifier::verifyServiceSignature('', 'POST', '/p', 't', null, $timestamp, 'c2ln'),
            'empty path' => static fn () => Verifier::verifyServiceSignatureRsa($public, 'POST', '', null, $timestamp, 'c2ln'),
            'empty secret, stale request' => static fn () => Verifier::verifyServiceSignature('', 'POST', '/p', 't', null, self::timestamp(-600), 'c2ln', 300),
        ];
        foreach ($cases as $name => $call) {
            try {
                $result = $call();
                self::fail("$name: expected InvalidArgumentException, got " . var_export($result, true));
            } catch (InvalidArgumentException $e) {
                self::assertSame(Status::INVALID_ARGUMENT, $e->getStatus(), $name);
            } catch (SnapException $e) {
                self::fail("$name: " . get_class($e) . ': ' . $e->getMessage());
            }
        }
    }
}
