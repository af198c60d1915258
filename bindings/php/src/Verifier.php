<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * Verifies what a provider sends the merchant: its B2B access-token requests
 * (verify()), and its service calls and notifications
 * (verifyServiceSignatureRsa(), verifyServiceSignature()).
 *
 * Each returns true when the signature is valid and false when it is not:
 * the signature does not match (wrong key or secret, tampered data), or the
 * timestamp is malformed or further than $maxSkewS seconds from now in
 * either direction (stale or replayed; 0 disables this check). A key that
 * cannot be read or an unusable argument throws instead.
 *
 * Public keys: PEM SPKI ("BEGIN PUBLIC KEY"), PEM PKCS#1 ("BEGIN RSA PUBLIC
 * KEY"), an X.509 certificate PEM, or bare base64 DER of any of them; RSA of
 * at least 2048 bits.
 */
final class Verifier
{
    /**
     * The default freshness window, in seconds: the library's
     * B2B_DEFAULT_MAX_SKEW_S (snapb2b.h). A #define is not visible through
     * FFI, so it is repeated here; VerifierTest checks it against the header.
     */
    public const DEFAULT_MAX_SKEW_S = 300;

    private function __construct()
    {
    }

    /**
     * A B2B token-request X-SIGNATURE: SHA256withRSA over "$clientId|$timestamp".
     *
     * @throws KeyException             the public key cannot be read
     * @throws InvalidArgumentException a NUL byte, invalid UTF-8, a negative $maxSkewS
     * @throws LibraryException         the native library is unavailable
     */
    public static function verify(
        string $publicKey,
        string $clientId,
        string $timestamp,
        string $signature,
        int $maxSkewS = self::DEFAULT_MAX_SKEW_S
    ): bool {
        return Native::verify($publicKey, $clientId, $timestamp, $signature, $maxSkewS);
    }

    /**
     * An asymmetric service or notification signature (see Signer::serviceSignatureRsa()).
     *
     * @param string|array|object|null $body the body as received (a string is best: it is
     *                                       hashed after minification, byte for byte otherwise)
     *
     * @throws KeyException             the public key cannot be read
     * @throws InvalidArgumentException an empty method or path, a NUL byte, a negative $maxSkewS
     *                                  (a body that is not JSON is `false`: it cannot verify)
     * @throws LibraryException         the native library is unavailable
     */
    public static function verifyServiceSignatureRsa(
        string $publicKey,
        string $method,
        string $path,
        $body,
        string $timestamp,
        string $signature,
        int $maxSkewS = self::DEFAULT_MAX_SKEW_S
    ): bool {
        return Native::verifyServiceSignatureRsa($publicKey, $method, $path, Native::bodyText($body), $timestamp, $signature, $maxSkewS);
    }

    /**
     * A symmetric (HMAC-SHA512) service signature (see Signer::serviceSignature()),
     * compared in constant time.
     *
     * @param string|array|object|null $body as for verifyServiceSignatureRsa()
     *
     * @throws InvalidArgumentException an empty secret, method or path, a NUL byte, a negative
     *                                  $maxSkewS (a body that is not JSON or an empty token is `false`)
     * @throws LibraryException         the native library is unavailable
     */
    public static function verifyServiceSignature(
        #[\SensitiveParameter]
        string $clientSecret,
        string $method,
        string $path,
        #[\SensitiveParameter]
        string $accessToken,
        $body,
        string $timestamp,
        string $signature,
        int $maxSkewS = self::DEFAULT_MAX_SKEW_S
    ): bool {
        return Native::verifyServiceSignature(
            $clientSecret,
            $method,
            $path,
            $accessToken,
            Native::bodyText($body),
            $timestamp,
            $signature,
            $maxSkewS
        );
    }
}
