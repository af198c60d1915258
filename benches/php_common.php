<?php
/*
 * Shared by the PHP token benchmarks: a token getter through the binding's
 * TokenClient when it keeps a native client handle, else through raw FFI.
 */

declare(strict_types=1);

/** Whether the PHP binding already drives b2b_client_* (a native handle). */
function binding_has_native_client(): bool
{
    $src = '';
    foreach (glob(dirname(__DIR__) . '/bindings/php/src/*.php') ?: [] as $file) {
        $src .= file_get_contents($file);
    }
    return strpos($src, 'b2b_client_token') !== false;
}

/**
 * [mode description, callable returning the token JSON or Token].
 * Every call must be served by one client, so the getter keeps it.
 *
 * @param array<string, mixed> $config the C library's config keys
 * @return array{0: string, 1: callable}
 */
function token_getter(array $config): array
{
    $root = dirname(__DIR__);
    if (binding_has_native_client()) {
        require_once "$root/bindings/php/autoload.php";
        $client = new \SnapB2B\TokenClient($config);
        return ['binding SnapB2B\\TokenClient::getToken', [$client, 'getToken']];
    }
    $ffi = FFI::cdef(file_get_contents("$root/bindings/php/snapb2b_ffi.h"), "$root/target/release/libsnapb2b.so");
    $client = $ffi->new('b2b_client*');
    if ($ffi->b2b_client_new(json_encode((object) $config, JSON_UNESCAPED_SLASHES), FFI::addr($client)) !== 0) {
        throw new RuntimeException('b2b_client_new: ' . $ffi->b2b_last_error());
    }
    $get = static function () use ($ffi, $client): string {
        $out = $ffi->new('char*');
        if ($ffi->b2b_client_token($client, FFI::addr($out)) !== 0) {
            throw new RuntimeException('b2b_client_token: ' . $ffi->b2b_last_error());
        }
        $json = FFI::string($out);
        $ffi->b2b_free($out);
        return $json;
    };
    // The client is never freed: each benchmark process uses one until exit.
    return ['raw-ffi b2b_client_new/b2b_client_token (the binding has no native client yet)', $get];
}
