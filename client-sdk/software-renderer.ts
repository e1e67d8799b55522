import * as tf from '@tensorflow/tfjs';

// Renderers that run "WebGL" on the CPU: Chrome's SwiftShader (headless, blocklisted GPUs), Mesa's
// llvmpipe/softpipe, Windows' Basic Render Driver. tfjs on them is a CPU path with GPU overheads.
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software rasterizer|basic render/i;

/** The active WebGL backend's renderer string (unmasked when the browser allows it), or undefined. */
export function webglRenderer(): string | undefined {
  try {
    const gl = (tf.backend() as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
    if (!gl) return undefined;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  } catch {
    return undefined;
  }
}

/**
 * True when the selected WebGL backend renders in software: the engine rule then treats it as no GPU
 * (in headless Chromium here, tfjs on SwiftShader trained 31x slower than the plain-JS engine:
 * `npm run bench -- device`).
 */
export function isSoftwareWebgl(backend: string): boolean {
  if (backend !== 'webgl') return false;
  const renderer = webglRenderer();
  return renderer !== undefined && SOFTWARE_RENDERER.test(renderer);
}
