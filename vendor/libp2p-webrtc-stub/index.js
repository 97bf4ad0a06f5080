// Flotilla's stand-in for @libp2p/webrtc: the names @helia/libp2p imports, failing if ever used.
function unavailable() {
  throw new Error("@libp2p/webrtc is not installed in Flotilla (WebRTC transports are not supported)");
}

export function webRTC() {
  return unavailable();
}

export function webRTCDirect() {
  return unavailable();
}
