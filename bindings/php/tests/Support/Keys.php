<?php

declare(strict_types=1);

namespace SnapB2B\Tests\Support;

/** RSA keys for the tests, made with PHP's openssl extension. */
final class Keys
{
    /** A new RSA key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"). */
    public static function generate(int $bits = 2048): string
    {
        $key = openssl_pkey_new(['private_key_bits' => $bits, 'private_key_type' => OPENSSL_KEYTYPE_RSA]);
        if ($key === false || !openssl_pkey_export($key, $pem)) {
            throw new \RuntimeException('openssl could not make an RSA key: ' . openssl_error_string());
        }
        if (strpos($pem, '-----BEGIN PRIVATE KEY-----') !== 0) {
            throw new \RuntimeException('expected PKCS#8 from openssl_pkey_export');
        }
        return $pem;
    }

    /** @var array<int, string> */
    private static array $shared = [];

    /**
     * RSA-2048 key number $index, generated once per PHPUnit run and shared
     * by the tests that need "a key" rather than a fresh one.
     */
    public static function shared(int $index = 0): string
    {
        return self::$shared[$index] ?? (self::$shared[$index] = self::generate(2048));
    }

    /** The same key re-exported as encrypted PKCS#8 with $passphrase. */
    public static function encrypted(string $pem, string $passphrase): string
    {
        if (!openssl_pkey_export($pem, $out, $passphrase)) {
            throw new \RuntimeException('openssl could not encrypt the key');
        }
        return $out;
    }

    /** The public key PEM of a private key. */
    public static function publicKey(string $pem): string
    {
        $details = openssl_pkey_get_details(openssl_pkey_get_private($pem));
        return $details['key'];
    }

    /** The DER inside a PEM. */
    public static function der(string $pem): string
    {
        $body = preg_replace('/-----[^-]+-----|\s+/', '', $pem);
        return base64_decode($body, true);
    }

    /**
     * PKCS#8 PEM to PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"), by taking the
     * RSAPrivateKey out of PrivateKeyInfo ::= SEQUENCE { version INTEGER,
     * algorithm AlgorithmIdentifier, privateKey OCTET STRING }.
     */
    public static function toPkcs1(string $pkcs8Pem): string
    {
        $der = self::der($pkcs8Pem);
        [$tag, $start] = self::tlv($der, 0);
        self::expect($tag === 0x30, 'PrivateKeyInfo is a SEQUENCE');
        [$tag, , , $next] = self::tlv($der, $start);
        self::expect($tag === 0x02, 'version INTEGER');
        [$tag, , , $next] = self::tlv($der, $next);
        self::expect($tag === 0x30, 'AlgorithmIdentifier SEQUENCE');
        [$tag, $content, $length] = self::tlv($der, $next);
        self::expect($tag === 0x04, 'privateKey OCTET STRING');
        $pkcs1 = substr($der, $content, $length);
        return "-----BEGIN RSA PRIVATE KEY-----\n"
            . chunk_split(base64_encode($pkcs1), 64, "\n")
            . "-----END RSA PRIVATE KEY-----\n";
    }

    /** `openssl rsa -traditional` of the key (PKCS#1 PEM), or null without the openssl command. */
    public static function toPkcs1WithCli(string $pkcs8Pem): ?string
    {
        $process = @proc_open(
            ['openssl', 'rsa', '-traditional'],
            [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes
        );
        if (!is_resource($process)) {
            return null;
        }
        fwrite($pipes[0], $pkcs8Pem);
        fclose($pipes[0]);
        $out = stream_get_contents($pipes[1]);
        stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return proc_close($process) === 0 && is_string($out) && $out !== '' ? $out : null;
    }

    /**
     * The public key as PKCS#1 PEM ("BEGIN RSA PUBLIC KEY"): the RSAPublicKey
     * inside SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
     * subjectPublicKey BIT STRING }.
     */
    public static function publicKeyPkcs1(string $privatePem): string
    {
        $der = self::der(self::publicKey($privatePem));
        [$tag, $start] = self::tlv($der, 0);
        self::expect($tag === 0x30, 'SubjectPublicKeyInfo is a SEQUENCE');
        [$tag, , , $next] = self::tlv($der, $start);
        self::expect($tag === 0x30, 'AlgorithmIdentifier SEQUENCE');
        [$tag, $content, $length] = self::tlv($der, $next);
        self::expect($tag === 0x03 && $der[$content] === "\0", 'subjectPublicKey BIT STRING without unused bits');
        $pkcs1 = substr($der, $content + 1, $length - 1);
        return "-----BEGIN RSA PUBLIC KEY-----\n"
            . chunk_split(base64_encode($pkcs1), 64, "\n")
            . "-----END RSA PUBLIC KEY-----\n";
    }

    /** A self-signed X.509 certificate PEM for the key (openssl_csr_new + openssl_csr_sign). */
    public static function certificate(string $privatePem): string
    {
        $key = openssl_pkey_get_private($privatePem);
        $csr = openssl_csr_new(['commonName' => 'snapb2b test provider', 'countryName' => 'ID'], $key, ['digest_alg' => 'sha256']);
        if ($csr === false || $csr === true) {
            throw new \RuntimeException('openssl_csr_new failed: ' . openssl_error_string());
        }
        $certificate = openssl_csr_sign($csr, null, $key, 1, ['digest_alg' => 'sha256']);
        if ($certificate === false || !openssl_x509_export($certificate, $pem)) {
            throw new \RuntimeException('openssl_csr_sign failed: ' . openssl_error_string());
        }
        return $pem;
    }

    /** base64 of the DER inside a PEM, on one line (no header). */
    public static function bareBase64(string $pem): string
    {
        return base64_encode(self::der($pem));
    }

    /** base64(openssl_sign(data, SHA256)): the reference signature. */
    public static function opensslSignature(string $pem, string $data): string
    {
        if (!openssl_sign($data, $signature, $pem, OPENSSL_ALGO_SHA256)) {
            throw new \RuntimeException('openssl_sign failed: ' . openssl_error_string());
        }
        return base64_encode($signature);
    }

    /**
     * Every run of $length base64 characters of the key body: none of them may
     * appear in an error message.
     *
     * @return list<string>
     */
    public static function fragments(string $keyText, int $length = 12): array
    {
        $body = preg_replace('/-----[^-]+-----|\s+|\\\\n/', '', $keyText);
        $fragments = [];
        for ($i = 0; $i + $length <= strlen($body); $i += $length) {
            $fragments[] = substr($body, $i, $length);
        }
        return $fragments;
    }

    /** @return array{0: int, 1: int, 2: int, 3: int} tag, content offset, content length, next offset */
    private static function tlv(string $der, int $offset): array
    {
        $tag = ord($der[$offset]);
        $length = ord($der[$offset + 1]);
        $content = $offset + 2;
        if ($length & 0x80) {
            $bytes = $length & 0x7f;
            $length = 0;
            for ($i = 0; $i < $bytes; $i++) {
                $length = ($length << 8) | ord($der[$content + $i]);
            }
            $content += $bytes;
        }
        return [$tag, $content, $length, $content + $length];
    }

    private static function expect(bool $ok, string $what): void
    {
        if (!$ok) {
            throw new \RuntimeException('unexpected PKCS#8 structure: ' . $what);
        }
    }
}
