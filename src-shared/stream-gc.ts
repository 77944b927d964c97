// A V8 garbage-collector setting for the processes that move bulk data (the daemon, `gate`).
//
// Why: every socket or pipe read, and every SSH packet, is a Buffer whose bytes live outside the
// V8 heap. By default V8 answers external memory growth on its own limit (about 64 MiB past the
// last full collection) with a full mark-compact of the whole heap, although those Buffers die
// young and a scavenge frees them. Streaming 256 MiB over SSH made ~512 MiB of such Buffers on
// each side: `gate` ran ~24 full collections per transfer and the daemon (a heap of ~40 MB) one
// every ~100 ms. With external memory counted in V8's global limit (heap + external) instead,
// scavenges free the short-lived Buffers and full collections follow the heap's growth.
// Measured (BENCHMARKS.md "Issue 16: SSH stream (second pass)"): CPU per 256 MiB −14 % in
// `gate`, −15–25 % in the daemon; in a synthetic 2 GiB stream of 64 KiB Buffers, 29 full
// collections became 1 and peak RSS rose from 198 to 284 MB: the memory stays bounded, it is
// freed by young-generation collections rather than by whole-heap ones.
import { setFlagsFromString } from 'node:v8';

/** The V8 flag (a runtime-settable one: V8 reads it at each limit computation). */
export const STREAM_GC_V8_FLAG = '--external-memory-accounted-in-global-limit';

/** Applies the streaming GC setting to this process; call once, first thing in the entry point. */
export function tuneGcForStreaming(setFlags: (flags: string) => void = setFlagsFromString): void {
  setFlags(STREAM_GC_V8_FLAG);
}
