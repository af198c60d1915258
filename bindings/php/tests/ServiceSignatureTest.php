<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\InvalidArgumentException;
use SnapB2B\KeyException;
use SnapB2B\Signer;
use SnapB2B\Status;
use SnapB2B\Verifier;
use SnapB2B\Tests\Support\Json;
use SnapB2B\Tests\Support\Keys;
use SnapB2B\Tests\Support\Paths;

/**
 * Service-call signatures, JSON minification and timestamps, recomputed
 * independently: hash_hmac()/hash() and openssl_sign()/openssl_verify()
 * over the documented strings to sign, and a minifier written here.
 */
final class ServiceSignatureTest extends TestCase
{
    private const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';


    private static function key(): string
    {
        return Keys::shared(0);
    }

    /** base64(HMAC-SHA512(secret, METHOD:path:token:sha256hex(minified):timestamp)) in plain PHP. */
    private static function hmac(string $secret, string $method, string $path, string $token, string $minified, string $timestamp): string
    {
        $data = strtoupper($method) . ':' . $path . ':' . $token . ':' . hash('sha256', $minified) . ':' . $timestamp;
        return base64_encode(hash_hmac('sha512', $data, $secret, true));
    }

    /** METHOD:path:sha256hex(minified):timestamp */
    private static function rsaStringToSign(string $method, string $path, string $minified, string $timestamp): string
    {
        return strtoupper($method) . ':' . $path . ':' . hash('sha256', $minified) . ':' . $timestamp;
    }

    public function testPublicSymmetricServiceVector(): void
    {
        $dir = Paths::vectorsDir();
        if ($dir === null) {
            self::markTestSkipped('no public vectors: set SNAPB2B_VECTORS to the directory holding snap-vectors.json '
                . '(default: ' . Paths::repoRoot() . '/tests/vectors)');
        }
        $vectors = json_decode((string) file_get_contents($dir . '/snap-vectors.json'), true);
        self::assertIsArray($vectors);
        self::assertNotEmpty($vectors['symmetric_service'] ?? []);
        foreach ($vectors['symmetric_service'] as $i => $v) {
            self::assertSame($v['minified_body'], Signer::minifyJson($v['body']), "vector $i: minified body");
            self::assertSame($v['minified_body'], Json::minify($v['body']), "vector $i: the test's minifier");
            $signature = Signer::serviceSignature($v['client_secret'], $v['method'], $v['path'], $v['access_token'], $v['body'], $v['timestamp']);
            self::assertSame($v['signature'], $signature, "vector $i: signature");
            self::assertSame(
                $v['signature'],
                self::hmac($v['client_secret'], $v['method'], $v['path'], $v['access_token'], $v['minified_body'], $v['timestamp']),
                "vector $i: hash_hmac"
            );
            // The same body decoded and passed as an array.
            $array = json_decode($v['body'], true);
            self::assertSame($v['signature'], Signer::serviceSignature($v['client_secret'], $v['method'], $v['path'], $v['access_token'], $array, $v['timestamp']));
            // A 2024 timestamp: valid only without the freshness check.
            self::assertTrue(Verifier::verifyServiceSignature($v['client_secret'], $v['method'], $v['path'], $v['access_token'], $v['body'], $v['timestamp'], $v['signature'], 0));
            self::assertFalse(Verifier::verifyServiceSignature($v['client_secret'], $v['method'], $v['path'], $v['access_token'], $v['body'], $v['timestamp'], $v['signature']));
        }
    }

    public function testMinifyAndSymmetricSignaturesOfGeneratedBodies(): void
    {
        mt_srand(20240305);
        $methods = ['POST', 'post', 'Get', 'PUT', 'delete'];
        for ($i = 0; $i < 300; $i++) {
            [$spaced, $compact] = Json::generate(mt_rand(1, 4));
            json_decode($spaced, true);
            self::assertSame(JSON_ERROR_NONE, json_last_error(), "generated body $i is JSON: $spaced");
            self::assertSame($compact, Json::minify($spaced), "body $i: the test's minifier");
            self::assertSame($compact, Signer::minifyJson($spaced), "body $i: " . json_encode($spaced));
            self::assertSame($compact, Signer::minifyJson($compact), "body $i: minified twice");

            $secret = bin2hex(random_bytes(mt_rand(8, 32)));
            $method = $methods[$i % count($methods)];
            $path = '/v1.0/transfer-va/payment?id=' . $i . '&q=a%20b';
            $token = rtrim(strtr(base64_encode(random_bytes(48)), '+/', '-_'), '=');
            $timestamp = sprintf('2024-03-%02dT10:%02d:%02d+07:00', mt_rand(1, 28), mt_rand(0, 59), mt_rand(0, 59));
            $expected = self::hmac($secret, $method, $path, $token, $compact, $timestamp);
            self::assertSame($expected, Signer::serviceSignature($secret, $method, $path, $token, $spaced, $timestamp), "body $i");
            self::assertTrue(Verifier::verifyServiceSignature($secret, $method, $path, $token, $spaced, $timestamp, $expected, 0), "body $i");
        }
    }

    public function testMinifyKeepsNumbersEscapesAndStringWhitespace(): void
    {
        $cases = [
            "{ \"a\" : 1.0e+2 , \"b\" : [ 1E-7 ,\n -0 , 12345678.00 ] }" => '{"a":1.0e+2,"b":[1E-7,-0,12345678.00]}',
            "{\"url\" : \"http:\\/\\/x.y/ z\", \"q\" : \"say \\\"hi\\\" \" }" => '{"url":"http:\/\/x.y/ z","q":"say \"hi\" "}',
            "{\"s\":\"caf\\u00e9 \u{65e5}\u{672c} \u{1f600}\\\\\" ,\"t\":\"\\\\\\\"\"}" => "{\"s\":\"caf\\u00e9 \u{65e5}\u{672c} \u{1f600}\\\\\",\"t\":\"\\\\\\\"\"}",
            "\r\n\t[ \"  spaced\\tstring  \" , { } , [ ] ]\n" => '["  spaced\tstring  ",{},[]]',
            ' "just a string" ' => '"just a string"',
            "[true ,false, null ]" => '[true,false,null]',
        ];
        foreach ($cases as $input => $expected) {
            self::assertSame($expected, Json::minify($input), 'the test minifier: ' . $input);
            self::assertSame($expected, Signer::minifyJson($input), $input);
        }
    }

    public function testMinifyRejectsWhatIsNotJson(): void
    {
        foreach (['', '{', "{'a':1}", '{"a":1,}', '[1 2]', 'nul', '{"a":1} x', "[\"tab\there\"]", "\xef\xbb\xbf[1]", "[\"\xc3\x28\"]"] as $bad) {
            try {
                Signer::minifyJson($bad);
                self::fail('expected InvalidArgumentException for ' . json_encode($bad, JSON_INVALID_UTF8_SUBSTITUTE));
            } catch (InvalidArgumentException $e) {
                self::assertSame(Status::INVALID_ARGUMENT, $e->getStatus());
            }
        }
        $this->expectException(InvalidArgumentException::class);
        Signer::minifyJson("[1]\0[2]");
    }

    public function testArrayBodiesAreJsonEncodedWithUnescapedSlashesAndUnicode(): void
    {
        $secret = 'secret-' . bin2hex(random_bytes(4));
        $timestamp = '2024-03-05T17:37:16+07:00';
        $body = [
            'partnerReferenceNo' => '2020102900000000000001',
            'amount' => ['value' => '12345678.00', 'currency' => 'IDR'],
            'url' => 'https://merchant.example/notify/a',
            'note' => "caf\u{e9} \u{65e5}\u{672c} \"quoted\" back\\slash",
            'items' => [1, 2.5, true, null, []],
            'empty' => new \stdClass(),
        ];
        $encoded = json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        self::assertStringContainsString('https://merchant.example/notify/a', $encoded);
        self::assertStringContainsString('"empty":{}', $encoded);
        $expected = self::hmac($secret, 'POST', '/v1.0/debit/payment', 'tok', $encoded, $timestamp);
        self::assertSame($expected, Signer::serviceSignature($secret, 'POST', '/v1.0/debit/payment', 'tok', $body, $timestamp));
        self::assertSame($expected, Signer::serviceSignature($secret, 'POST', '/v1.0/debit/payment', 'tok', (object) $body, $timestamp), 'an object');
        self::assertSame($expected, Signer::serviceSignature($secret, 'POST', '/v1.0/debit/payment', 'tok', $encoded, $timestamp), 'the string it encodes to');
        $escaped = json_encode($body);
        self::assertNotSame($expected, Signer::serviceSignature($secret, 'POST', '/v1.0/debit/payment', 'tok', $escaped, $timestamp), 'escapes are signed as given');

        $rsa = Signer::serviceSignatureRsa(self::key(), 'POST', '/v1.0/debit/notify', $body, $timestamp);
        self::assertSame(Keys::opensslSignature(self::key(), self::rsaStringToSign('POST', '/v1.0/debit/notify', $encoded, $timestamp)), $rsa);
        self::assertTrue(Verifier::verifyServiceSignatureRsa(Keys::publicKey(self::key()), 'POST', '/v1.0/debit/notify', $body, $timestamp, $rsa, 0));
    }

    public function testNoBodyHashesTheEmptyString(): void
    {
        self::assertSame(self::EMPTY_SHA256, hash('sha256', ''));
        $timestamp = '2024-03-05T10:37:16.196Z';
        $expected = self::hmac('s3cret', 'GET', '/v1.0/balance-inquiry', 'tok', '', $timestamp);
        self::assertSame($expected, Signer::serviceSignature('s3cret', 'GET', '/v1.0/balance-inquiry', 'tok', null, $timestamp));
        self::assertSame($expected, Signer::serviceSignature('s3cret', 'get', '/v1.0/balance-inquiry', 'tok', '', $timestamp));
        self::assertTrue(Verifier::verifyServiceSignature('s3cret', 'GET', '/v1.0/balance-inquiry', 'tok', null, $timestamp, $expected, 0));

        $rsa = Signer::serviceSignatureRsa(self::key(), 'GET', '/v1.0/balance-inquiry', null, $timestamp);
        self::assertSame(Keys::opensslSignature(self::key(), 'GET:/v1.0/balance-inquiry:' . self::EMPTY_SHA256 . ':' . $timestamp), $rsa);
        self::assertSame($rsa, Signer::serviceSignatureRsa(self::key(), 'GET', '/v1.0/balance-inquiry', '', $timestamp));
    }

    public function testRsaServiceSignaturesMatchOpenssl(): void
    {
        mt_srand(7);
        $key = self::key();
        $public = openssl_pkey_get_public(Keys::publicKey($key));
        for ($i = 0; $i < 25; $i++) {
            [$spaced, $compact] = Json::generate(mt_rand(1, 3));
            $method = ['POST', 'put', 'Patch'][$i % 3];
            $path = '/v1.0/notify/' . $i . '?x=' . $i;
            $timestamp = sprintf('2024-12-31T10:11:%02d+07:00', $i);
            $signature = Signer::serviceSignatureRsa($key, $method, $path, $spaced, $timestamp);
            $data = self::rsaStringToSign($method, $path, $compact, $timestamp);
            self::assertSame(1, openssl_verify($data, (string) base64_decode($signature, true), $public, OPENSSL_ALGO_SHA256), "body $i");
            self::assertSame(Keys::opensslSignature($key, $data), $signature, "body $i: PKCS#1 v1.5 is deterministic");
        }
    }

    public function testServiceSignatureArgumentErrors(): void
    {
        $cases = [
            'body not JSON' => static fn () => Signer::serviceSignature('s', 'POST', '/p', 't', '{bad', '2024-01-01T00:00:00Z'),
            'body of another type' => static fn () => Signer::serviceSignature('s', 'POST', '/p', 't', 42, '2024-01-01T00:00:00Z'),
            'body json_encode refuses' => static fn () => Signer::serviceSignature('s', 'POST', '/p', 't', ['x' => "\xc3\x28"], '2024-01-01T00:00:00Z'),
            'NUL in body' => static fn () => Signer::serviceSignature('s', 'POST', '/p', 't', "{\"a\":\"\0\"}", '2024-01-01T00:00:00Z'),
            'NUL in secret' => static fn () => Signer::serviceSignature("s\0x", 'POST', '/p', 't', null, '2024-01-01T00:00:00Z'),
            'empty secret' => static fn () => Signer::serviceSignature('', 'POST', '/p', 't', null, '2024-01-01T00:00:00Z'),
            'bad method' => static fn () => Signer::serviceSignature('s', 'PO ST', '/p', 't', null, '2024-01-01T00:00:00Z'),
            'empty path' => static fn () => Signer::serviceSignature('s', 'POST', '', 't', null, '2024-01-01T00:00:00Z'),
            'empty token' => static fn () => Signer::serviceSignature('s', 'POST', '/p', '', null, '2024-01-01T00:00:00Z'),
            'empty timestamp' => static fn () => Signer::serviceSignatureRsa(self::key(), 'POST', '/p', null, ''),
            'invalid UTF-8 path' => static fn () => Signer::serviceSignature('s', 'POST', "/p\xff", 't', null, '2024-01-01T00:00:00Z'),
        ];
        foreach ($cases as $name => $call) {
            try {
                $call();
                self::fail("$name: expected InvalidArgumentException");
            } catch (InvalidArgumentException $e) {
                self::assertSame(Status::INVALID_ARGUMENT, $e->getStatus(), $name);
            }
        }
        $this->expectException(KeyException::class);
        Signer::serviceSignatureRsa(Keys::publicKey(self::key()), 'POST', '/p', null, '2024-01-01T00:00:00Z');
    }

    public function testTimestamps(): void
    {
        $patterns = [
            'wib' => '/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/',
            'utc' => '/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/',
            'utc_ms' => '/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/',
            'wib_ms' => '/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00$/',
        ];
        foreach ($patterns as $style => $pattern) {
            $timestamp = Signer::timestamp($style);
            self::assertMatchesRegularExpression($pattern, $timestamp, $style);
            $at = (new \DateTimeImmutable($timestamp))->getTimestamp();
            self::assertEqualsWithDelta(time(), $at, 2, "$style: $timestamp is now");
        }
        self::assertMatchesRegularExpression($patterns['wib'], Signer::timestamp(), 'the default is wib');
        $this->expectException(InvalidArgumentException::class);
        Signer::timestamp('local');
    }
}
