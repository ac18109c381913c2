/** The harness's Toxiproxy: a compatible server, its CLI entry and the nemesis's client wrapper. */
export { startToxiproxyServer, TOXIPROXY_VERSION, type ToxiproxyServer, type ToxiproxyServerOptions } from './server.js';
export { main, parseToxiproxyArgs, TOXIPROXY_USAGE } from './cli.js';
export { ToxiproxyClient, type AddedToxic, type ProxyState, type ToxicSpec } from './client.js';
