<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\Token;
use SnapB2B\TokenClient;
use SnapB2B\Tests\Support\Sandbox;

/** Token round trips against the local sandbox provider. */
final class TokenClientTest extends TestCase
{
    /** @return array<string, array{0: string, 1: string}> provider, its success response code */
    public function providers(): array
    {
        return [
            'doku' => ['doku', '2007300'],
            'nicepay' => ['nicepay', '2007300'],
            'klikoo' => ['klikoo', '200012000'],
            'snap' => ['snap', '2007300'],
            'midtrans' => ['midtrans', '2007300'],
            // A user profile (config-bnc.json carries "profile", not "provider").
            'bnc' => ['bnc', '2007300'],
        ];
    }

    /** @dataProvider providers */
    public function testTokenRoundTrip(string $provider, string $successCode): void
    {
        $client = new TokenClient(Sandbox::config($provider));
        $client->invalidate(); // a fetched token, not one an earlier handle of this config cached
        $before = time();
        $token = $client->getToken();
        $after = time();

        self::assertInstanceOf(Token::class, $token);
        self::assertSame($provider, $token->getProvider());
        self::assertSame($provider, $token->provider);
        self::assertMatchesRegularExpression('/^[\x21-\x7e]{16,}$/', $token->getAccessToken());
        self::assertSame($token->getAccessToken(), $token->accessToken);
        self::assertSame('Bearer', $token->getTokenType());
        self::assertSame('Bearer', $token->tokenType);
        self::assertSame(900, $token->getExpiresIn());
        self::assertSame(900, $token->expiresIn);
        self::assertGreaterThanOrEqual($before + 900 - 1, $token->getExpiresAt());
        self::assertLessThanOrEqual($after + 900 + 1, $token->getExpiresAt());
        self::assertSame($token->getExpiresAt(), $token->expiresAt);
        self::assertEqualsWithDelta(900, $token->secondsLeft(), 2);
        self::assertFalse($token->isExpired());
        self::assertTrue($token->isExpired(1000));
        self::assertSame($successCode, $token->getResponseCode());
        self::assertSame($successCode, $token->responseCode);
        self::assertIsString($token->getResponseMessage());
        self::assertNotSame('', $token->getResponseMessage());
        self::assertSame($token->getResponseMessage(), $token->responseMessage);
        self::assertSame('Bearer ' . $token->getAccessToken(), $token->authorizationHeader());
        self::assertTrue(isset($token->accessToken));
        self::assertSame(
            ['provider', 'accessToken', 'tokenType', 'expiresIn', 'expiresAt', 'responseCode', 'responseMessage', 'additionalInfo'],
            array_keys($token->toArray())
        );
        self::assertSame($token->getAccessToken(), $token->toArray()['accessToken']);
    }

    public function testTokenIsMaskedInDumpsAndStrings(): void
    {
        $token = (new TokenClient(Sandbox::config('doku')))->getToken();
        $secret = $token->getAccessToken();
        $masked = substr($secret, 0, 6) . '...' . substr($secret, -4);
        self::assertSame($masked, $token->maskedAccessToken());

        $string = (string) $token;
        self::assertStringNotContainsString($secret, $string);
        self::assertStringContainsString($masked, $string);
        self::assertStringContainsString('doku', $string);

        $printR = print_r($token, true);
        self::assertStringNotContainsString($secret, $printR);
        self::assertStringContainsString($masked, $printR);

        ob_start();
        var_dump($token);
        $varDump = (string) ob_get_clean();
        self::assertStringNotContainsString($secret, $varDump);
        self::assertStringContainsString($masked, $varDump);

        self::assertSame('{}', json_encode($token));
        self::assertSame('***', Token::mask('short'));
    }

    public function testTokenIsImmutable(): void
    {
        $token = new Token('snap', str_repeat('t', 32), 'Bearer', 900, time() + 900, '2007300', 'Successful');
        try {
            $token->accessToken = 'changed';
            self::fail('writing a property must throw');
        } catch (\LogicException $e) {
            self::assertStringContainsString('immutable', $e->getMessage());
        }
        try {
            unset($token->provider);
            self::fail('unsetting a property must throw');
        } catch (\LogicException $e) {
            self::assertStringContainsString('immutable', $e->getMessage());
        }
        $this->expectException(\LogicException::class);
        $token->noSuchProperty; // @phpstan-ignore-line
    }

    public function testInlinePrivateKeyInsteadOfAFile(): void
    {
        $config = Sandbox::config('nicepay');
        unset($config['private_key_file']);
        $config['private_key'] = Sandbox::privateKey();
        $config['timeout_ms'] = 5000;
        $config['connect_timeout_ms'] = 2000;
        $token = (new TokenClient($config))->getToken();
        self::assertSame('nicepay', $token->getProvider());
    }

    /**
     * Calls do not each fetch a token (TokenClient caches; request counts are
     * in TokenClientCacheTest): this checks only that one client keeps
     * answering with a usable token after its first call.
     */
    public function testClientStaysUsableForRepeatedCalls(): void
    {
        $client = new TokenClient(Sandbox::config('snap'));
        foreach ([$client->getToken(), $client->getToken(), $client->getToken()] as $i => $token) {
            self::assertSame('snap', $token->getProvider(), "call $i");
            self::assertMatchesRegularExpression('/^[\x21-\x7e]{16,}$/', $token->getAccessToken(), "call $i");
            self::assertFalse($token->isExpired(), "call $i");
        }
    }

    public function testFromJsonFile(): void
    {
        $token = TokenClient::fromJsonFile(Sandbox::configPath('klikoo'))->getToken();
        self::assertSame('klikoo', $token->getProvider());
    }

    public function testFromJsonFileRejectsMissingAndNonObjectFiles(): void
    {
        try {
            TokenClient::fromJsonFile(Sandbox::dir() . '/no-such-config.json');
            self::fail('expected InvalidArgumentException');
        } catch (\SnapB2B\InvalidArgumentException $e) {
            self::assertStringContainsString('no-such-config.json', $e->getMessage());
        }
        $dir = \SnapB2B\Tests\Support\Paths::tempDir('snapb2b-php-config');
        try {
            file_put_contents($dir . '/list.json', '[1, 2]');
            $this->expectException(\SnapB2B\InvalidArgumentException::class);
            TokenClient::fromJsonFile($dir . '/list.json');
        } finally {
            \SnapB2B\Tests\Support\Paths::removeTree($dir);
        }
    }

    public function testClientDumpHidesSecrets(): void
    {
        $config = Sandbox::config('klikoo');
        unset($config['private_key_file']);
        $config['private_key'] = Sandbox::privateKey();
        $config['private_key_passphrase'] = 'pass-phrase-SECRET';
        $client = new TokenClient($config);
        $dump = print_r($client, true);
        self::assertStringNotContainsString((string) $config['client_secret'], $dump);
        self::assertStringNotContainsString('pass-phrase-SECRET', $dump);
        foreach (\SnapB2B\Tests\Support\Keys::fragments($config['private_key']) as $fragment) {
            self::assertStringNotContainsString($fragment, $dump);
        }
        self::assertStringContainsString((string) $config['client_id'], $dump);
    }

    public function testClientCannotBeSerialized(): void
    {
        $this->expectException(\LogicException::class);
        serialize(new TokenClient(Sandbox::config('doku')));
    }

    public function testClientCannotBeCloned(): void
    {
        $client = new TokenClient(Sandbox::config('doku'));
        $this->expectException(\Error::class);
        $copy = clone $client; // @phpstan-ignore-line
    }
}
