<?php
/*
 * token.php with its config read from a JSON file and decoded on every
 * request (the sandbox's doku config + a cache_file shared by all
 * workers): what reading the config costs a page. The pool sets
 * BENCH_CONFIG and BENCH_CACHE (env[] in php-fpm.conf); token.php does
 * the rest, inside its error handling.
 */

declare(strict_types=1);

$loadConfig = static function (): array {
    $config = json_decode((string) file_get_contents(getenv('BENCH_CONFIG')), true, 8, JSON_THROW_ON_ERROR);
    $config['cache_file'] = getenv('BENCH_CACHE');
    return $config;
};
require __DIR__ . '/token.php';
