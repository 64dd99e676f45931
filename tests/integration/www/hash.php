<?php
// Length and sha256 of the raw request body, streamed from php://input.
header('Content-Type: text/plain');
$ctx = hash_init('sha256');
$len = 0;
$in = fopen('php://input', 'rb');
while (!feof($in)) {
	$chunk = fread($in, 65536);
	if ($chunk === false) {
		break;
	}
	$len += strlen($chunk);
	hash_update($ctx, $chunk);
}
fclose($in);
echo "length=$len\nsha256=", hash_final($ctx), "\n";
