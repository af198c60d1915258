<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\InvalidArgumentException;
use SnapB2B\KeyException;
use SnapB2B\SnapException;
use SnapB2B\Signer;
use SnapB2B\Status;
use SnapB2B\Tests\Support\Keys;

final class SignerTest extends TestCase
{
    /** @var list<string> PKCS#8 PEM keys made for this run */
    private static array $keys = [];

    public static function setUpBeforeClass(): void
    {
        self::$keys = [Keys::generate(2048), Keys::generate(2048), Keys::generate(2048), Keys::generate(3072)];
    }

    /** @return list<array{0: string, 1: string}> random (client id, timestamp) pairs */
    private static function randomInputs(int $count): array
    {
        $pairs = [];
        for ($i = 0; $i < $count; $i++) {
            $clientIds = [
                sprintf('%08X-SNAP', random_int(0, 0x7fffffff)),
                bin2hex(random_bytes(random_int(1, 24))),
                'BRN-' . random_int(1, 9999) . '-' . bin2hex(random_bytes(6)),
                vsprintf('%s-%s-4%s-a%s-%s', str_split(bin2hex(random_bytes(16)), 8) + [4 => '']),
                'klien-é-日本-' . random_int(0, 999),
            ];
            $t = random_int(946684800, 4102444800); // 2000 .. 2100
            $timestamps = [
                gmdate('Y-m-d\TH:i:s', $t + 7 * 3600) . '+07:00',
                gmdate('Y-m-d\TH:i:s', $t) . sprintf('.%03dZ', random_int(0, 999)),
                gmdate('Y-m-d\TH:i:s\Z', $t),
                gmdate('Y-m-d\TH:i:s', $t + 7 * 3600) . sprintf('.%03d+07:00', random_int(0, 999)),
            ];
            $pairs[] = [$clientIds[array_rand($clientIds)], $timestamps[array_rand($timestamps)]];
        }
        return $pairs;
    }

    public function testSignatureEqualsOpensslSignForPkcs8AndPkcs1Keys(): void
    {
        foreach (self::$keys as $n => $pkcs8) {
            $pkcs1 = Keys::toPkcs1($pkcs8);
            self::assertStringStartsWith('-----BEGIN RSA PRIVATE KEY-----', $pkcs1);
            self::assertNotFalse(openssl_pkey_get_private($pkcs1), 'OpenSSL reads the PKCS#1 conversion');
            foreach (self::randomInputs(6) as [$clientId, $timestamp]) {
                $expected = Keys::opensslSignature($pkcs8, $clientId . '|' . $timestamp);
                self::assertSame($expected, Signer::sign($pkcs8, $clientId, $timestamp), "key $n PKCS#8, $clientId|$timestamp");
                self::assertSame($expected, Signer::sign($pkcs1, $clientId, $timestamp), "key $n PKCS#1, $clientId|$timestamp");
            }
        }
    }

    public function testPkcs1FromTheOpensslCommandLine(): void
    {
        $pkcs1 = Keys::toPkcs1WithCli(self::$keys[0]);
        if ($pkcs1 === null) {
            self::markTestSkipped('no `openssl` command to run `openssl rsa -traditional`');
        }
        self::assertStringStartsWith('-----BEGIN RSA PRIVATE KEY-----', $pkcs1);
        self::assertSame(Keys::toPkcs1(self::$keys[0]), $pkcs1, 'the CLI and the DER unwrapping agree');
        [$clientId, $timestamp] = self::randomInputs(1)[0];
        self::assertSame(
            Keys::opensslSignature(self::$keys[0], "$clientId|$timestamp"),
            Signer::sign($pkcs1, $clientId, $timestamp)
        );
    }

    public function testTheSignatureVerifiesWithThePublicKey(): void
    {
        $key = self::$keys[1];
        $signature = Signer::sign($key, 'CLIENT', '2024-01-02T03:04:05+07:00');
        $raw = base64_decode($signature, true);
        self::assertNotFalse($raw, 'standard base64');
        self::assertSame(256, strlen($raw), 'a 2048-bit signature');
        self::assertSame(1, openssl_verify('CLIENT|2024-01-02T03:04:05+07:00', $raw, Keys::publicKey($key), OPENSSL_ALGO_SHA256));
    }

    /** @return array<string, array{0: callable(string): string}> */
    public function keyTextVariants(): array
    {
        return [
            'CRLF line ends' => [static function (string $pem): string {
                return str_replace("\n", "\r\n", $pem);
            }],
            'literal \n sequences (as in .env files)' => [static function (string $pem): string {
                return str_replace("\n", '\n', trim($pem));
            }],
            'stripped newlines' => [static function (string $pem): string {
                return str_replace("\n", '', $pem);
            }],
            'surrounding whitespace' => [static function (string $pem): string {
                return "\n  \t" . $pem . "\n\n  ";
            }],
            'bare base64 DER, PKCS#8' => [static function (string $pem): string {
                return base64_encode(Keys::der($pem));
            }],
            'bare base64 DER, PKCS#1' => [static function (string $pem): string {
                return base64_encode(Keys::der(Keys::toPkcs1($pem)));
            }],
        ];
    }

    /**
     * @dataProvider keyTextVariants
     *
     * @param callable(string): string $transform
     */
    public function testAcceptedKeyTextVariants(callable $transform): void
    {
        $pem = self::$keys[2];
        $expected = Keys::opensslSignature($pem, 'VARIANT-CLIENT|2024-03-01T08:27:49.024Z');
        self::assertSame($expected, Signer::sign($transform($pem), 'VARIANT-CLIENT', '2024-03-01T08:27:49.024Z'));
    }

    /** @return array<string, array{0: int}> */
    public function nulArguments(): array
    {
        return ['private key' => [0], 'client id' => [1], 'timestamp' => [2]];
    }

    /** @dataProvider nulArguments */
    public function testANulByteIsRejectedByTheBinding(int $position): void
    {
        $args = [self::$keys[0], 'CLIENT', '2024-01-01T00:00:00+07:00'];
        $args[$position] .= "\0tail-SECRET-PART";
        try {
            Signer::sign(...$args);
            self::fail('expected InvalidArgumentException');
        } catch (InvalidArgumentException $e) {
            self::assertSame(Status::INVALID_ARGUMENT, $e->getStatus());
            self::assertSame(Status::INVALID_ARGUMENT, $e->getCode());
            self::assertSame('INVALID_ARGUMENT', $e->getStatusName());
            self::assertStringContainsString('NUL', $e->getMessage());
            self::assertStringNotContainsString('SECRET-PART', $e->getMessage());
        }
    }

    public function testInvalidUtf8IsAnInvalidArgument(): void
    {
        $this->expectException(InvalidArgumentException::class);
        Signer::sign(self::$keys[0], "CLIENT-\xff", '2024-01-01T00:00:00+07:00');
    }

    /** @return array<string, array{0: callable(): string}> */
    public function badKeys(): array
    {
        return [
            'not a key at all' => [static function (): string {
                return 'this-is-my-very-secret-key-material-0123456789abcdef';
            }],
            'PEM with a body that is not DER' => [static function (): string {
                return "-----BEGIN PRIVATE KEY-----\n" . chunk_split(base64_encode(random_bytes(600)), 64, "\n") . "-----END PRIVATE KEY-----\n";
            }],
            'truncated PKCS#8 key' => [static function (): string {
                $lines = explode("\n", Keys::generate(2048));
                return implode("\n", array_slice($lines, 0, 12)) . "\n-----END PRIVATE KEY-----\n";
            }],
            'PKCS#1 key with DER bytes cut out' => [static function (): string {
                $der = Keys::der(Keys::toPkcs1(Keys::generate(2048)));
                $der = substr($der, 0, 600) . substr($der, 630);
                return "-----BEGIN RSA PRIVATE KEY-----\n" . chunk_split(base64_encode($der), 64, "\n") . "-----END RSA PRIVATE KEY-----\n";
            }],
            'public key' => [static function (): string {
                return Keys::publicKey(Keys::generate(2048));
            }],
            'RSA 1024 (under 2048 bits)' => [static function (): string {
                return Keys::generate(1024);
            }],
            'encrypted PKCS#8 (no passphrase given)' => [static function (): string {
                return Keys::encrypted(Keys::generate(2048), 'correct horse');
            }],
            'EC key (not RSA)' => [static function (): string {
                $key = openssl_pkey_new(['private_key_type' => OPENSSL_KEYTYPE_EC, 'curve_name' => 'prime256v1']);
                openssl_pkey_export($key, $pem);
                return $pem;
            }],
        ];
    }

    /**
     * @dataProvider badKeys
     *
     * @param callable(): string $makeKey
     */
    public function testABadKeyIsAKeyExceptionThatNeverShowsTheKey(callable $makeKey): void
    {
        $key = $makeKey();
        try {
            Signer::sign($key, 'CLIENT', '2024-01-01T00:00:00+07:00');
            self::fail('expected KeyException');
        } catch (KeyException $e) {
            self::assertSame(Status::KEY, $e->getStatus());
            self::assertSame('KEY', $e->getStatusName());
            self::assertNotSame('', $e->getMessage());
            $everything = $e->getMessage() . "\n" . $e->getHint() . "\n" . $e;
            foreach (Keys::fragments($key) as $fragment) {
                self::assertStringNotContainsString($fragment, $everything, 'the message must not contain the key text');
            }
        }
    }

    public function testLibraryVersionIsZeroDotX(): void
    {
        self::assertMatchesRegularExpression('/^0\.\d+\.\d+/', \SnapB2B\Native::version());
    }

    public function testExceptionClassPerStatus(): void
    {
        $expected = [
            Status::INVALID_ARGUMENT => \SnapB2B\InvalidArgumentException::class,
            Status::KEY => \SnapB2B\KeyException::class,
            Status::CRYPTO => \SnapB2B\CryptoException::class,
            Status::TRANSPORT => \SnapB2B\TransportException::class,
            Status::TIMEOUT => \SnapB2B\TimeoutException::class,
            Status::PROVIDER => \SnapB2B\ProviderException::class,
            Status::PROTOCOL => \SnapB2B\ProtocolException::class,
            Status::SIGNATURE_INVALID => \SnapB2B\SignatureInvalidException::class,
            Status::INTERNAL => \SnapB2B\InternalException::class,
        ];
        foreach ($expected as $status => $class) {
            $e = SnapException::fromErrorArray($status, [
                'status' => $status, 'name' => Status::name($status), 'message' => 'm',
                'http_status' => 503, 'response_code' => '5037300', 'response_message' => 'busy', 'hint' => 'h',
            ]);
            self::assertInstanceOf($class, $e);
            self::assertInstanceOf(SnapException::class, $e);
            self::assertInstanceOf(\RuntimeException::class, $e);
            self::assertSame($status, $e->getStatus());
            self::assertSame($status, $e->getCode());
            self::assertSame(Status::name($status), $e->getStatusName());
            self::assertSame(503, $e->getHttpStatus());
            self::assertSame('5037300', $e->getResponseCode());
            self::assertSame('busy', $e->getResponseMessage());
            self::assertSame('h', $e->getHint());
            self::assertSame('m (hint: h)', $e->getMessage());
            // Thrown directly, each class carries its own status.
            $direct = new $class('x');
            self::assertSame($status, $direct->getStatus());
        }
        $unknown = SnapException::fromStatus(42, 'new code');
        self::assertSame(SnapException::class, get_class($unknown));
        self::assertSame('UNKNOWN', $unknown->getStatusName());
        self::assertSame(42, $unknown->getStatus());
    }
}
