<?php

declare(strict_types=1);

namespace SnapB2B\Tests;

use PHPUnit\Framework\TestCase;
use SnapB2B\TokenClient;
use SnapB2B\Tests\Support\Sandbox;

/**
 * A TokenClient used across pcntl_fork(): the child uses the parent's handle
 * (its cached token, then a renewal on a connection of its own) and the
 * parent then renews over its own kept-alive connection, no retry allowed.
 */
final class ForkTest extends TestCase
{
    public function testChildUsesTheParentsClientAndTheParentCarriesOn(): void
    {
        if (!function_exists('pcntl_fork') || !function_exists('pcntl_exec')) {
            self::markTestSkipped('the pcntl extension is not loaded (php -m): fork behaviour is covered by the C and Python tests');
        }
        $client = new TokenClient(['max_retries' => 0] + Sandbox::config('snap'));
        $first = $client->getToken();
        self::assertFalse($first->cached);

        $pid = pcntl_fork();
        self::assertNotSame(-1, $pid, 'pcntl_fork failed');
        if ($pid === 0) {
            $ok = false;
            try {
                $inherited = $client->getToken();
                $client->invalidate();
                $renewed = $client->getToken();
                $ok = $inherited->cached && $inherited->accessToken === $first->accessToken
                    && !$renewed->cached && $renewed->accessToken !== $first->accessToken;
            } catch (\Throwable $e) {
                fwrite(STDERR, 'child: ' . get_class($e) . ': ' . $e->getMessage() . "\n");
            }
            // Ends the child without PHPUnit's shutdown (or any destructor):
            // the exit status is all the parent needs.
            pcntl_exec($ok ? '/bin/true' : '/bin/false');
            exit(2);
        }
        pcntl_waitpid($pid, $status);
        self::assertTrue(pcntl_wifexited($status), 'the child ended by a signal');
        self::assertSame(0, pcntl_wexitstatus($status), 'the child: cached token, then a renewal');

        $client->invalidate();
        $again = $client->getToken();
        self::assertFalse($again->cached);
        self::assertNotSame($first->accessToken, $again->accessToken);
    }
}
