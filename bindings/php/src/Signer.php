<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * The X-SIGNATURE of a SNAP B2B access-token request.
 */
final class Signer
{
    private function __construct()
    {
    }

    /**
     * SHA256withRSA (RSASSA-PKCS1-v1_5 over SHA-256) of "$clientId|$timestamp",
     * base64 (standard alphabet, padded): the X-SIGNATURE header value.
     *
     * The same bytes as
     * `openssl_sign("$clientId|$timestamp", $sig, $privateKey, OPENSSL_ALGO_SHA256); base64_encode($sig)`.
     *
     * @param string $privateKey PEM PKCS#8 or PKCS#1 (unencrypted), or bare base64 DER
     *                           of either; CRLF, surrounding whitespace, literal "\n"
     *                           sequences and stripped newlines are accepted
     * @param string $clientId   X-CLIENT-KEY
     * @param string $timestamp  X-TIMESTAMP exactly as sent, e.g. "2024-03-01T15:27:49+07:00"
     *
     * @throws InvalidArgumentException a NUL byte in an argument, or invalid UTF-8
     * @throws KeyException             the key is unusable (the message never contains it)
     * @throws CryptoException          OpenSSL failed
     * @throws LibraryException         the native library is unavailable
     */
    public static function sign(string $privateKey, string $clientId, string $timestamp): string
    {
        return Native::sign($privateKey, $clientId, $timestamp);
    }
}
