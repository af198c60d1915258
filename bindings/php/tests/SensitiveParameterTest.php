<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\Server;
use SnapB2B\ServerResponse;
use SnapB2B\Signer;
use SnapB2B\Token;
use SnapB2B\TokenClient;
use SnapB2B\Verifier;
use SnapB2B\Tests\Support\Keys;

/**
 * Secrets never reach a stack trace: every parameter taking a private key,
 * passphrase, client secret, access token, signature or a config holding
 * them is #[\SensitiveParameter], which PHP 8.2+ shows as a
 * SensitiveParameterValue object when exceptions keep their arguments
 * (zend.exception_ignore_args=0, the php.ini-development default).
 */
final class SensitiveParameterTest extends TestCase
{
    private const SECRET = 'Zq8ClientSecret-4f1d9a7c2b6e';
    private const TOKEN = 'Yr3AccessToken-b81c07e5d2a9';
    private const PASSPHRASE = 'Xw5Passphrase-93ad1f';
    private const BOGUS_KEY = 'Vt6PrivateKeyMaterial0000';
    private const SIGNATURE = 'Us2SignatureBase64xx==';
    private const TIMESTAMP = '2024-12-31T10:11:40+07:00';

    /** @var array<string, string|false> */
    private array $ini = [];

    protected function setUp(): void
    {
        if (PHP_VERSION_ID < 80200) {
            self::markTestSkipped('#[\SensitiveParameter] takes effect from PHP 8.2');
        }
        // Arguments in traces, strings shown up to 15 bytes (PHP's default).
        foreach (['zend.exception_ignore_args' => '0', 'zend.exception_string_param_max_len' => '15'] as $name => $value) {
            $this->ini[$name] = ini_set($name, $value);
        }
    }

    protected function tearDown(): void
    {
        foreach ($this->ini as $name => $old) {
            if ($old !== false) {
                ini_set($name, $old);
            }
        }
    }

    /** @return array<string, array{0: callable(): mixed, 1: list<string>}> */
    public static function failingCalls(): array
    {
        $pem = Keys::shared();
        $config = [
            'provider' => 'snap',
            'base_url' => 'https://127.0.0.1:9',
            'client_id' => 'SENSITIVE-TEST',
            'private_key' => $pem,
            'private_key_passphrase' => self::PASSPHRASE,
            'client_secret' => self::SECRET,
        ];
        return [
            'sign, bad client id' => [static fn () => Signer::sign($pem, "id\0", self::TIMESTAMP), [$pem]],
            'sign, unusable key' => [static fn () => Signer::sign(self::BOGUS_KEY, 'id', self::TIMESTAMP), [self::BOGUS_KEY]],
            'serviceSignature' => [
                static fn () => Signer::serviceSignature(self::SECRET, 'POST', "/p\0", self::TOKEN, null, self::TIMESTAMP),
                [self::SECRET, self::TOKEN],
            ],
            'serviceSignatureRsa' => [
                static fn () => Signer::serviceSignatureRsa(self::BOGUS_KEY, 'POST', '/p', '{}', self::TIMESTAMP),
                [self::BOGUS_KEY],
            ],
            'verify' => [
                static fn () => Verifier::verify(Keys::publicKey($pem), 'id', self::TIMESTAMP, self::SIGNATURE, -1),
                [self::SIGNATURE],
            ],
            'verifyServiceSignature' => [
                static fn () => Verifier::verifyServiceSignature(self::SECRET, '', '/p', self::TOKEN, null, self::TIMESTAMP, self::SIGNATURE),
                [self::SECRET, self::TOKEN, self::SIGNATURE],
            ],
            'TokenClient, library rejects the config' => [
                static fn () => new TokenClient($config + ['no_such_key' => 1]),
                [$pem, self::PASSPHRASE, self::SECRET],
            ],
            'TokenClient, binding rejects a value' => [
                static fn () => new TokenClient(['client_secret' => self::SECRET . "\0"] + $config),
                [$pem, self::PASSPHRASE, self::SECRET],
            ],
            'TokenClient::fromJsonFile overrides' => [
                static fn () => TokenClient::fromJsonFile('/nonexistent/snapb2b.json', ['client_secret' => self::SECRET]),
                [self::SECRET],
            ],
            'TokenClient::customerToken, both grants' => [
                static fn () => (new TokenClient($config))->customerToken(self::SECRET, self::TOKEN),
                [self::SECRET, self::TOKEN],
            ],
            'TokenClient::request, bad customer token' => [
                static fn () => (new TokenClient($config))->request('POST', '/p', null, [], null, null, self::TOKEN . ' x'),
                [self::TOKEN],
            ],
            'CustomerToken::fromJson' => [
                static fn () => \SnapB2B\CustomerToken::fromJson('{"access_token":"' . self::TOKEN . '"}'),
                [self::TOKEN],
            ],
            'Server, library rejects the config' => [
                static fn () => new Server(['partners' => [], 'token_secret' => self::SECRET]),
                [self::SECRET],
            ],
            'Server::check, argument refused' => [
                static fn () => (new Server(['partners' => [['client_id' => 'P', 'public_key' => Keys::publicKey($pem)]]]))
                    ->check('POST', '/p', ['Authorization' => 'Bearer ' . self::TOKEN], '{}', 'x'),
                [self::TOKEN],
            ],
            'ServerResponse::fromJson' => [
                static fn () => ServerResponse::fromJson('{"body":"' . self::TOKEN . '"}'),
                [self::TOKEN],
            ],
            'Token::fromJson' => [
                static fn () => Token::fromJson('{"access_token":"' . self::TOKEN . '"}'),
                [self::TOKEN],
            ],
        ];
    }

    /**
     * @dataProvider failingCalls
     *
     * @param callable(): mixed $call
     * @param list<string>      $secrets
     */
    public function testTracesHideSecrets(callable $call, array $secrets): void
    {
        try {
            $call();
        } catch (\Throwable $e) {
            // The library's frames, not this test's (its arguments are the
            // secrets) nor PHPUnit's (print_r of its object graph is huge).
            $frames = array_filter($e->getTrace(), static fn (array $frame): bool => ($frame['class'] ?? '') !== self::class
                && strpos($frame['class'] ?? '', 'PHPUnit\\') !== 0);
            $traces = [
                'getTraceAsString()' => $e->getTraceAsString(),
                'print_r(getTrace())' => print_r($frames, true),
            ];
            // The trace does carry arguments, so the absence below means something.
            self::assertStringContainsString('SensitiveParameterValue', $traces['print_r(getTrace())']);
            foreach ($traces as $what => $trace) {
                foreach ($secrets as $secret) {
                    // 10 bytes: less than the 15 a trace string shows of an argument.
                    self::assertStringNotContainsString(substr($secret, 0, 10), $trace, "$what shows a secret");
                }
            }
            return;
        }
        self::fail('expected an exception');
    }

    /**
     * PHP 7.4 reads `#` to the end of the line as a comment: each attribute
     * must stand alone on its line, or it would hide the parameter after it.
     */
    public function testAttributesParseAsCommentsBeforePhp8(): void
    {
        $count = 0;
        foreach (glob(dirname(__DIR__) . '/src/*.php') ?: [] as $file) {
            foreach (file($file) as $n => $line) {
                if (strpos($line, '#[') !== false) {
                    self::assertSame('#[\SensitiveParameter]', trim($line), basename($file) . ':' . ($n + 1));
                    $count++;
                }
            }
        }
        self::assertGreaterThan(0, $count);
    }
}
