<?php
// The baseline page: what one php-fpm request costs behind nginx with no library.
echo "ok\n";
