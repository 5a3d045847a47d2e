// Loads the Sealpost wasm app. Kept in a file of its own: the CSP forbids inline scripts.
import init from '/assets/sealpost_web.js';
init({ module_or_path: '/assets/sealpost_web_bg.wasm' });
