<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\Signer;
use SnapB2B\Tests\Support\Keys;
use SnapB2B\Tests\Support\Paths;

/** The public SNAP documentation samples in tests/vectors/snap-vectors.json. */
final class VectorsTest extends TestCase
{
    public function testPublicAsymmetricTokenVectors(): void
    {
        $dir = Paths::vectorsDir();
        if ($dir === null) {
            self::markTestSkipped('no public vectors: set SNAPB2B_VECTORS to the directory holding snap-vectors.json '
                . '(default: ' . Paths::repoRoot() . '/tests/vectors)');
        }
        $vectors = json_decode((string) file_get_contents($dir . '/snap-vectors.json'), true);
        self::assertIsArray($vectors);
        $key = (string) file_get_contents($dir . '/' . $vectors['private_key_file']);
        self::assertNotEmpty($vectors['asymmetric_b2b_token']);
        foreach ($vectors['asymmetric_b2b_token'] as $i => $vector) {
            self::assertSame($vector['client_id'] . '|' . $vector['timestamp'], $vector['string_to_sign'], "vector $i");
            self::assertSame($vector['signature'], Signer::sign($key, $vector['client_id'], $vector['timestamp']), "vector $i");
            self::assertSame($vector['signature'], Keys::opensslSignature($key, $vector['string_to_sign']), "vector $i, openssl");
        }
    }
}
