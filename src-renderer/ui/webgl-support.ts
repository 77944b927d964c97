// Whether the terminal should draw with WebGL here. "Where the GPU allows": a WebGL2 context that
// a real GPU backs. Chromium without a GPU (headless, --disable-gpu, blocklisted drivers) still
// offers WebGL2 through a software rasterizer (SwiftShader, Mesa's llvmpipe); drawing a terminal
// through it costs more CPU than xterm's DOM renderer, so that counts as no GPU.

const SOFTWARE_RASTERIZERS = /swiftshader|llvmpipe|softpipe|software|basic render driver/i;

/** True for the renderer names software rasterizers report. */
export function isSoftwareRenderer(name: string): boolean {
  return SOFTWARE_RASTERIZERS.test(name);
}

/** Asks the browser once for a WebGL2 context and the name of what renders it, then frees it. */
export function hasGpuWebgl2(doc: Document = document): boolean {
  const canvas = doc.createElement('canvas');
  const gl = canvas.getContext('webgl2');
  if (!gl) return false;
  try {
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    return name !== '' && !isSoftwareRenderer(name);
  } finally {
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
}
