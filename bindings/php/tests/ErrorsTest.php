<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\InvalidArgumentException;
use SnapB2B\KeyException;
use SnapB2B\ProtocolException;
use SnapB2B\ProviderException;
use SnapB2B\SnapException;
use SnapB2B\Status;
use SnapB2B\TimeoutException;
use SnapB2B\TokenClient;
use SnapB2B\TransportException;
use SnapB2B\Tests\Support\Keys;
use SnapB2B\Tests\Support\Sandbox;

/** Every failure class, raised for real against the sandbox provider. */
final class ErrorsTest extends TestCase
{
    /**
     * @param array<string, mixed> $changes
     *
     * @return array<string, mixed>
     */
    private static function config(array $changes, string $provider = 'snap'): array
    {
        $config = Sandbox::config($provider);
        foreach ($changes as $key => $value) {
            if ($value === null) {
                unset($config[$key]);
            } else {
                $config[$key] = $value;
            }
        }
        return $config;
    }

    /**
     * @param array<string, mixed> $config
     * @param class-string<SnapException> $class
     */
    private static function expectFailure(array $config, string $class, int $status): SnapException
    {
        try {
            $token = (new TokenClient($config))->getToken();
        } catch (SnapException $e) {
            self::assertInstanceOf($class, $e, get_class($e) . ': ' . $e->getMessage());
            self::assertSame($status, $e->getStatus());
            self::assertSame($status, $e->getCode());
            self::assertSame(Status::name($status), $e->getStatusName());
            self::assertNotSame('', $e->getMessage());
            return $e;
        }
        self::fail(sprintf('expected %s, got a %s token', $class, $token->getProvider()));
    }

    /** @return array<string, array{0: string, 1: class-string<SnapException>, 2: int}> */
    public function faultClients(): array
    {
        return [
            'FAULT-GARBAGE' => ['FAULT-GARBAGE', ProtocolException::class, Status::PROTOCOL],
            'FAULT-HUGE' => ['FAULT-HUGE', ProtocolException::class, Status::PROTOCOL],
            'FAULT-NOTOKEN' => ['FAULT-NOTOKEN', ProtocolException::class, Status::PROTOCOL],
            'FAULT-DROP' => ['FAULT-DROP', TransportException::class, Status::TRANSPORT],
        ];
    }

    /**
     * @dataProvider faultClients
     *
     * @param class-string<SnapException> $class
     */
    public function testFaultClient(string $clientId, string $class, int $status): void
    {
        $e = self::expectFailure(self::config(['client_id' => $clientId]), $class, $status);
        self::assertNull($e->getResponseCode());
    }

    public function testSlowProviderIsATimeout(): void
    {
        $start = microtime(true);
        $e = self::expectFailure(self::config(['client_id' => 'FAULT-SLOW', 'timeout_ms' => 500]), TimeoutException::class, Status::TIMEOUT);
        $elapsed = microtime(true) - $start;
        self::assertLessThan(2.5, $elapsed, 'timeout_ms=500 is honoured (the sandbox answers after 3 s)');
        self::assertGreaterThanOrEqual(0.4, $elapsed);
        self::assertNull($e->getHttpStatus());
    }

    public function testBadTimestampFormatIsAProviderErrorUntilTheStyleFitsTheProvider(): void
    {
        // This sandbox client wants millisecond timestamps, as some banks do.
        $e = self::expectFailure(self::config(['client_id' => 'SANDBOX-CLIENT-MS']), ProviderException::class, Status::PROVIDER);
        self::assertSame(400, $e->getHttpStatus());
        self::assertSame('4007301', $e->getResponseCode());
        self::assertStringContainsString('X-TIMESTAMP', $e->getMessage());
        $token = (new TokenClient(self::config(['client_id' => 'SANDBOX-CLIENT-MS', 'timestamp_style' => 'wib_ms'])))->getToken();
        self::assertNotSame('', $token->accessToken);
    }

    public function testServerErrorIsAProviderErrorWithItsCodes(): void
    {
        $e = self::expectFailure(self::config(['client_id' => 'FAULT-500']), ProviderException::class, Status::PROVIDER);
        self::assertSame(500, $e->getHttpStatus());
        self::assertSame('5007301', $e->getResponseCode());
        self::assertIsString($e->getResponseMessage());
    }

    /** @return array<string, array{0: string}> */
    public function snapProviders(): array
    {
        return ['doku' => ['doku'], 'nicepay' => ['nicepay'], 'snap' => ['snap']];
    }

    /** @dataProvider snapProviders */
    public function testUnknownClientIsUnauthorized(string $provider): void
    {
        $e = self::expectFailure(self::config(['client_id' => 'NO-SUCH-CLIENT-' . bin2hex(random_bytes(3))], $provider), ProviderException::class, Status::PROVIDER);
        self::assertSame(401, $e->getHttpStatus());
        self::assertSame('4017300', $e->getResponseCode());
        self::assertNotNull($e->getResponseMessage());
        self::assertNotNull($e->getHint(), 'the library explains an unknown client id');
        self::assertStringEndsWith(' (hint: ' . $e->getHint() . ')', $e->getMessage());
    }

    public function testKeyTheProviderDoesNotKnowIsUnauthorized(): void
    {
        $e = self::expectFailure(
            self::config(['private_key_file' => null, 'private_key' => Keys::generate(2048)]),
            ProviderException::class,
            Status::PROVIDER
        );
        self::assertSame(401, $e->getHttpStatus());
        self::assertSame('4017300', $e->getResponseCode());
    }

    public function testUntrustedCertificateWithoutCaFileIsATransportError(): void
    {
        self::expectFailure(self::config(['ca_file' => null]), TransportException::class, Status::TRANSPORT);
    }

    public function testPlainHttpWithoutAllowHttpIsAnInvalidArgument(): void
    {
        $config = self::config([]);
        $config['base_url'] = preg_replace('/^https:/', 'http:', (string) $config['base_url']);
        $e = self::expectFailure($config, InvalidArgumentException::class, Status::INVALID_ARGUMENT);
        self::assertStringContainsString('allow_http', $e->getMessage());
    }

    public function testUnknownConfigKeyIsAnInvalidArgument(): void
    {
        $e = self::expectFailure(self::config(['client_idd' => 'typo']), InvalidArgumentException::class, Status::INVALID_ARGUMENT);
        self::assertStringContainsString('client_idd', $e->getMessage());
    }

    public function testUnknownProviderIsAnInvalidArgument(): void
    {
        self::expectFailure(self::config(['provider' => 'no-such-bank']), InvalidArgumentException::class, Status::INVALID_ARGUMENT);
    }

    public function testEmptyConfigIsAnInvalidArgument(): void
    {
        self::expectFailure([], InvalidArgumentException::class, Status::INVALID_ARGUMENT);
    }

    public function testBadInlineKeyIsAKeyErrorThatNeverShowsTheKey(): void
    {
        $key = Keys::generate(2048);
        $broken = str_replace("\n", "\n#", $key); // '#' is not base64
        $e = self::expectFailure(self::config(['private_key_file' => null, 'private_key' => $broken]), KeyException::class, Status::KEY);
        $everything = $e->getMessage() . "\n" . $e->getHint() . "\n" . $e;
        foreach (Keys::fragments($key) as $fragment) {
            self::assertStringNotContainsString($fragment, $everything);
        }
    }

    public function testWrongPassphraseIsAKeyErrorThatNeverShowsThePassphrase(): void
    {
        $encrypted = Keys::encrypted(Sandbox::privateKey(), 'right-passphrase');
        $e = self::expectFailure(
            self::config(['private_key_file' => null, 'private_key' => $encrypted, 'private_key_passphrase' => 'WRONG-passphrase-42']),
            KeyException::class,
            Status::KEY
        );
        self::assertStringNotContainsString('WRONG-passphrase-42', $e->getMessage() . $e);
    }

    public function testEncryptedKeyWithItsPassphraseWorks(): void
    {
        $encrypted = Keys::encrypted(Sandbox::privateKey(), 'right-passphrase');
        $config = self::config(['private_key_file' => null, 'private_key' => $encrypted, 'private_key_passphrase' => 'right-passphrase']);
        self::assertSame('snap', (new TokenClient($config))->getToken()->getProvider());
    }

    public function testMissingKeyFileIsAKeyError(): void
    {
        self::expectFailure(self::config(['private_key_file' => Sandbox::dir() . '/no-such-key.pem']), KeyException::class, Status::KEY);
    }

    /** @return array<string, array{0: array<string, mixed>, 1: string}> */
    public function configsTheBindingRejects(): array
    {
        return [
            'NUL in a value' => [['client_id' => "SANDBOX-CLIENT\0SECRET-TAIL"], 'client_id'],
            'NUL in a key' => [["client_id\0x" => 'x'], 'NUL'],
            'invalid UTF-8' => [['client_id' => "CLIENT-\xc3\x28"], 'UTF-8'],
            'array value' => [['timeout_ms' => [500]], 'timeout_ms'],
            'object value' => [['timeout_ms' => new \stdClass()], 'timeout_ms'],
            'integer key' => [[0 => 'x'], 'keys'],
        ];
    }

    /**
     * @dataProvider configsTheBindingRejects
     *
     * @param array<string|int, mixed> $changes
     */
    public function testTheBindingRejectsConfigsTheLibraryCannotTake(array $changes, string $mentioned): void
    {
        $config = Sandbox::config('doku');
        foreach ($changes as $key => $value) {
            $config[$key] = $value;
        }
        try {
            new TokenClient($config);
            self::fail('expected InvalidArgumentException from the constructor');
        } catch (InvalidArgumentException $e) {
            self::assertSame(Status::INVALID_ARGUMENT, $e->getStatus());
            self::assertStringContainsString($mentioned, $e->getMessage());
            self::assertStringNotContainsString('SECRET-TAIL', $e->getMessage());
        }
    }

    public function testEachFailureReportsItsOwnError(): void
    {
        // A failure after a success on the same thread reports the new error, not the old one.
        (new TokenClient(Sandbox::config('doku')))->getToken();
        $e = self::expectFailure(self::config(['client_id' => 'FAULT-500']), ProviderException::class, Status::PROVIDER);
        self::assertSame(500, $e->getHttpStatus());
        $e2 = self::expectFailure(self::config(['ca_file' => null]), TransportException::class, Status::TRANSPORT);
        self::assertNull($e2->getHttpStatus());
        self::assertNull($e2->getResponseCode());
    }
}
