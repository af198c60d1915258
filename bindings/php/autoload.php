<?php

/*
 * PSR-4 autoloader for snapb2b/snapb2b without Composer:
 *
 *     require '/path/to/snapb2b/bindings/php/autoload.php';
 *
 * Maps SnapB2B\Foo to src/Foo.php, exactly like composer.json's
 * "autoload": {"psr-4": {"SnapB2B\\": "src/"}}. Safe to require twice.
 */

declare(strict_types=1);

if (defined('SNAPB2B_AUTOLOAD')) {
    return;
}
define('SNAPB2B_AUTOLOAD', __FILE__);

spl_autoload_register(static function (string $class): void {
    $prefix = 'SnapB2B\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
