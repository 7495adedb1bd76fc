// client.mjs - what the tests import: HTTP with a cookie jar and raw
// requests (client-http.mjs), WebSockets with an event queue and raw frames
// (client-ws.mjs), and users that combine them (client-users.mjs).
export * from './client-http.mjs';
export * from './client-ws.mjs';
export * from './client-users.mjs';
