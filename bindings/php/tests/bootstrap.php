<?php

/*
 * PHPUnit bootstrap: the binding's own autoloader (no Composer needed), the
 * test helpers, and one sandbox provider for the whole run.
 */

declare(strict_types=1);

require dirname(__DIR__) . '/autoload.php';

spl_autoload_register(static function (string $class): void {
    $prefix = 'SnapB2B\\Tests\\';
    if (strncmp($class, $prefix, strlen($prefix)) === 0) {
        $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

SnapB2B\Tests\Support\Sandbox::start();
