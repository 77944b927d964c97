import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSoftwareRenderer } from './webgl-support.ts';

test('software rasterizers are not a GPU; real GPUs are', () => {
  for (const name of [
    'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)',
    'Google SwiftShader',
    'llvmpipe (LLVM 15.0.6, 256 bits)',
    'Microsoft Basic Render Driver',
  ]) {
    assert.equal(isSoftwareRenderer(name), true, name);
  }
  for (const name of [
    'ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)',
    'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)',
    'Apple M2',
  ]) {
    assert.equal(isSoftwareRenderer(name), false, name);
  }
});
