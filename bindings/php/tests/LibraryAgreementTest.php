<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\InternalException;
use SnapB2B\InvalidArgumentException;
use SnapB2B\Native;
use SnapB2B\SnapException;
use SnapB2B\Status;
use SnapB2B\Token;
use SnapB2B\Verifier;
use SnapB2B\Tests\Support\Paths;

/**
 * What the binding takes from the library rather than deciding itself (the
 * default skew, the skew range, status names), and the behaviour the Python
 * binding shares (tests/test_library.py there).
 */
final class LibraryAgreementTest extends TestCase
{
    private const TIMESTAMP = '2024-03-01T15:27:49+07:00';

    public function testDefaultSkewIsTheHeaders(): void
    {
        $header = (string) file_get_contents(Paths::repoRoot() . '/crates/snapb2b-ffi/include/snapb2b.h');
        self::assertSame(1, preg_match('/^#define B2B_DEFAULT_MAX_SKEW_S (\d+)$/m', $header, $m), 'B2B_DEFAULT_MAX_SKEW_S in snapb2b.h');
        self::assertSame((int) $m[1], Verifier::DEFAULT_MAX_SKEW_S);
    }

    public function testNegativeSkewIsRefusedByTheLibrary(): void
    {
        try {
            // The skew is checked before the key, so any key text will do.
            Verifier::verify('not a key', 'C', self::TIMESTAMP, 'c2ln', -1);
            self::fail('expected InvalidArgumentException');
        } catch (InvalidArgumentException $e) {
            $library = json_decode((string) Native::ffi()->b2b_last_error_json(), true);
            self::assertSame($library['message'], $e->getMessage(), 'the library\'s error, not the binding\'s');
            self::assertStringContainsString('max_skew_s', $e->getMessage());
        }
    }

    /** @return array<string, array{0: int}> */
    public function skewsBeyondACInt(): array
    {
        // 2**32 + 5 would reach the library as 5: FFI keeps the low 32 bits.
        return ['2**31' => [2147483648], '2**32 + 5' => [4294967301], '-2**31 - 1' => [-2147483649]];
    }

    /** @dataProvider skewsBeyondACInt */
    public function testSkewBeyondACIntIsRefusedBeforeTheCall(int $skew): void
    {
        try {
            Verifier::verifyServiceSignature('s', 'POST', '/p', 't', null, self::TIMESTAMP, 'c2ln', $skew);
            self::fail('expected InvalidArgumentException');
        } catch (InvalidArgumentException $e) {
            self::assertStringContainsString('does not fit a C int', $e->getMessage());
        }
    }

    public function testStatusNamesAreTheLibrarys(): void
    {
        $codes = array_merge(array_values(Status::all()), [42, -1, 100]);
        foreach ($codes as $code) {
            $library = (string) Native::ffi()->b2b_status_name($code);
            self::assertSame($library, SnapException::fromStatus($code, 'm')->getStatusName(), "status $code");
            self::assertSame($library, Status::name($code), "status $code");
        }
        // The binding's constants are named as the library names their codes.
        foreach (Status::all() as $name => $code) {
            self::assertSame($name, (string) Native::ffi()->b2b_status_name($code));
        }
    }

    /** @return array<string, array{0: string}> */
    public function malformedTokenJson(): array
    {
        return [
            'not JSON' => ['not json'],
            'a list' => ['[]'],
            'null' => ['null'],
            'no access_token' => ['{"provider":"snap","token_type":"Bearer","expires_in":900,"expires_at":1}'],
            'expires_in a string' => ['{"provider":"snap","access_token":"SECRET-TOKEN-123","token_type":"Bearer","expires_in":"900","expires_at":1}'],
            'provider a number' => ['{"provider":1,"access_token":"SECRET-TOKEN-123","token_type":"Bearer","expires_in":900,"expires_at":1}'],
            'cut short' => ['{"provider":"snap","access_token":"SECRET-TOKEN-123"'],
        ];
    }

    /** @dataProvider malformedTokenJson */
    public function testMalformedTokenJsonIsInternal(string $json): void
    {
        // A library bug, not the provider's answer (Python: InternalError too).
        try {
            Token::fromJson($json);
            self::fail('expected InternalException');
        } catch (InternalException $e) {
            self::assertSame(Status::INTERNAL, $e->getStatus());
            self::assertStringContainsString('please report it', $e->getMessage());
            self::assertStringNotContainsString('SECRET-TOKEN', $e->getMessage());
        }
    }

    public function testNoHintNoSuffix(): void
    {
        try {
            \SnapB2B\Signer::minifyJson('{not json');
            self::fail('expected InvalidArgumentException');
        } catch (InvalidArgumentException $e) {
            self::assertNull($e->getHint());
            self::assertStringNotContainsString('(hint:', $e->getMessage());
        }
    }
}
