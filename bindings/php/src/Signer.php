<?php

declare(strict_types=1);

namespace SnapB2B;

/**
 * SNAP signatures a merchant sends: the X-SIGNATURE of the B2B access-token
 * request (sign()) and of service calls made with the token
 * (serviceSignature(), serviceSignatureRsa()), plus the JSON minification and
 * timestamps they are made of. Verifier checks what providers send back.
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
    public static function sign(
        #[\SensitiveParameter]
        string $privateKey,
        string $clientId,
        string $timestamp
    ): string {
        return Native::sign($privateKey, $clientId, $timestamp);
    }

    /**
     * The symmetric X-SIGNATURE of a service call: base64(HMAC-SHA512($clientSecret,
     * "METHOD:$path:$accessToken:" . lowercase(hex(SHA-256(minify($body)))) . ":$timestamp")).
     *
     *     $body = ['partnerReferenceNo' => '2020102900000000000001', 'amount' => ['value' => '10000.00', 'currency' => 'IDR']];
     *     $timestamp = Signer::timestamp();
     *     $signature = Signer::serviceSignature($clientSecret, 'POST', '/v1.0/qr/qr-mpm-generate',
     *         $token->getAccessToken(), $body, $timestamp);
     *     // send X-TIMESTAMP: $timestamp, X-SIGNATURE: $signature, and the body
     *     // json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE)
     *
     * @param string                   $clientSecret the provider's client secret (HMAC key)
     * @param string                   $method       HTTP method, upper-cased by the library
     * @param string                   $path         the endpoint path with its query string, as sent
     * @param string                   $accessToken  the B2B access token (without "Bearer ")
     * @param string|array|object|null $body         the JSON body as sent; an array or object is encoded
     *                                               with json_encode(JSON_UNESCAPED_SLASHES |
     *                                               JSON_UNESCAPED_UNICODE); null (no body) hashes ""
     * @param string                   $timestamp    X-TIMESTAMP exactly as sent
     *
     * @throws InvalidArgumentException the body is not JSON, an empty argument, a NUL byte, invalid UTF-8
     * @throws CryptoException          OpenSSL failed
     * @throws LibraryException         the native library is unavailable
     */
    public static function serviceSignature(
        #[\SensitiveParameter]
        string $clientSecret,
        string $method,
        string $path,
        #[\SensitiveParameter]
        string $accessToken,
        $body,
        string $timestamp
    ): string {
        return Native::serviceSignature($clientSecret, $method, $path, $accessToken, Native::bodyText($body), $timestamp);
    }

    /**
     * The asymmetric signature of a service call or notification:
     * base64(SHA256withRSA("METHOD:$path:" . lowercase(hex(SHA-256(minify($body)))) . ":$timestamp")).
     *
     * @param string                   $privateKey the key forms sign() accepts
     * @param string|array|object|null $body       as for serviceSignature()
     *
     * @throws InvalidArgumentException the body is not JSON, an empty argument, a NUL byte, invalid UTF-8
     * @throws KeyException             the key is unusable (the message never contains it)
     * @throws CryptoException          OpenSSL failed
     * @throws LibraryException         the native library is unavailable
     */
    public static function serviceSignatureRsa(
        #[\SensitiveParameter]
        string $privateKey,
        string $method,
        string $path,
        $body,
        string $timestamp
    ): string {
        return Native::serviceSignatureRsa($privateKey, $method, $path, Native::bodyText($body), $timestamp);
    }

    /**
     * $json without insignificant whitespace outside strings, everything else
     * (key order, number spelling such as 1.0e+2, string contents and escapes
     * such as \/ and \u00e9) kept byte for byte: what the body hash of a
     * service signature is computed over.
     *
     * @throws InvalidArgumentException $json is not one valid JSON value
     * @throws LibraryException         the native library is unavailable
     */
    public static function minifyJson(string $json): string
    {
        return Native::minifyJson($json);
    }

    /**
     * The current time as a SNAP X-TIMESTAMP. Format it once, then sign and
     * send the same string.
     *
     * @param string $style "wib" (2024-12-31T10:11:40+07:00), "utc" (2024-12-31T03:11:40Z),
     *                      "utc_ms" (2024-12-31T03:11:40.123Z) or "wib_ms" (2024-12-31T10:11:40.123+07:00)
     *
     * @throws InvalidArgumentException an unknown style
     * @throws LibraryException         the native library is unavailable
     */
    public static function timestamp(string $style = 'wib'): string
    {
        return Native::timestamp($style);
    }
}
