export declare function webRTC(init?: unknown): never;
export declare function webRTCDirect(init?: unknown): never;
