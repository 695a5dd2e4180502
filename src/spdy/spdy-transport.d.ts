/** The SPDY header-compression dictionaries shipped by spdy-transport (keys '2', '3', '3.1'). */
declare module 'spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js' {
  const dictionaries: Record<string, Buffer>;
  export default dictionaries;
}
