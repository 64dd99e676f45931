<?php
// Two cookies (PHP sends two Set-Cookie headers), a custom header and a
// status other than 200, to check they pass the gateway unmerged.
setcookie('first', 'one', ['path' => '/']);
setcookie('second', 'two', ['path' => '/', 'httponly' => true]);
header('X-Php-Test: yes');
http_response_code(202);
echo "headers sent\n";
