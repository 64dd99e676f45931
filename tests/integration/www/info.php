<?php
// Reports what PHP made of the request: selected $_SERVER entries,
// $_GET and $_POST, as JSON (objects stay objects even when empty).
header('Content-Type: application/json');
$keys = [
	'REQUEST_METHOD', 'QUERY_STRING', 'REQUEST_URI', 'SCRIPT_NAME',
	'PATH_INFO', 'SCRIPT_FILENAME', 'DOCUMENT_ROOT', 'PHP_SELF',
	'ORIG_PATH_INFO', 'ORIG_SCRIPT_NAME', 'SERVER_PROTOCOL',
	'GATEWAY_INTERFACE', 'SERVER_PORT', 'REMOTE_ADDR', 'CONTENT_TYPE',
	'CONTENT_LENGTH', 'HTTP_HOST', 'HTTP_X_TEST', 'HTTP_PROXY',
];
$server = [];
foreach ($keys as $k) {
	$server[$k] = $_SERVER[$k] ?? null;
}
echo json_encode([
	'server' => $server,
	'get' => (object)$_GET,
	'post' => (object)$_POST,
	'files' => array_map(fn($f) => ['name' => $f['name'], 'size' => $f['size']], $_FILES),
]), "\n";
