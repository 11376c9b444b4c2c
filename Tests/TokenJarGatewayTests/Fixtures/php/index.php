<?php
// A legacy cookie-session backend: the state lives in PHP's file sessions behind PHPSESSID.
session_start();
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
header('Content-Type: application/json');
if ($path === '/logout') {
    $params = session_get_cookie_params();
    setcookie(session_name(), '', time() - 42000, $params['path']);
    session_destroy();
    echo json_encode(['logged_out' => true]);
    exit;
}
$_SESSION['count'] = ($_SESSION['count'] ?? 0) + 1;
echo json_encode(['count' => $_SESSION['count'], 'sid' => session_id()]);
