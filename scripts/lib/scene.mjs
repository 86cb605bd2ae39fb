// A synthetic "phone photo" scene, shared by the benchmark and the tests' generated images.
//
// A flat or purely smooth image compresses to almost nothing and decodes far faster than a real photo,
// which would make a benchmark flatter the decoder. The scene mixes what a camera produces: smooth
// gradients (sky, ground), mid-frequency texture, hard-edged shapes, and per-pixel sensor noise (strong
// in luma, weaker in chroma). At q90 this lands near the file size of a real photo of the same
// resolution. The scene is laid out in relative coordinates, so every size shows the same picture.

/** Deterministic PRNG (mulberry32): the same inputs on every machine and every run. */
export function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const clamp = (value) => (value < 0 ? 0 : value > 255 ? 255 : value);

/** Raw interleaved RGB pixels of the scene at `width` x `height`. */
export function renderScene(width, height) {
  const random = prng(0x5eed);
  const rgb = new Float32Array(width * height * 3);
  const horizon = 0.55;

  // Background: a sky gradient above the horizon, rolling ground below, plus a low-frequency
  // texture (sum of sines with random phases) so no region is perfectly smooth.
  const waves = Array.from({ length: 4 }, () => ({
    fx: (2 + random() * 12) * Math.PI,
    fy: (2 + random() * 12) * Math.PI,
    phase: random() * Math.PI * 2,
    amp: 4 + random() * 6,
  }));
  for (let y = 0; y < height; y++) {
    const v = y / height;
    for (let x = 0; x < width; x++) {
      const u = x / width;
      let texture = 0;
      for (const w of waves) texture += w.amp * Math.sin(w.fx * u + w.fy * v + w.phase);
      const i = (y * width + x) * 3;
      if (v < horizon + 0.04 * Math.sin(u * 9)) {
        const t = v / horizon;
        rgb[i] = 90 + 110 * t + 20 * u;
        rgb[i + 1] = 140 + 80 * t;
        rgb[i + 2] = 230 - 30 * t + texture * 0.3;
      } else {
        rgb[i] = 70 + 40 * u + texture;
        rgb[i + 1] = 110 + 30 * v + texture;
        rgb[i + 2] = 40 + 20 * u + texture * 0.5;
      }
    }
  }

  // Hard-edged objects with their own shading: discs (a sun, balls, trees) and boxes (buildings).
  const scale = Math.min(width, height);
  for (let n = 0; n < 40; n++) {
    const cx = random() * width;
    const cy = (0.3 + random() * 0.7) * height;
    const size = (0.02 + random() * 0.12) * scale;
    const colour = [random() * 255, random() * 255, random() * 255];
    const disc = random() < 0.5;
    const halfW = disc ? size : size * (0.5 + random());
    const halfH = disc ? size : size * (0.5 + random() * 2);
    const x0 = Math.max(0, Math.floor(cx - halfW));
    const x1 = Math.min(width, Math.ceil(cx + halfW));
    const y0 = Math.max(0, Math.floor(cy - halfH));
    const y1 = Math.min(height, Math.ceil(cy + halfH));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const dx = (x - cx) / halfW;
        const dy = (y - cy) / halfH;
        if (disc && dx * dx + dy * dy > 1) continue;
        const shade = 0.65 + 0.35 * (1 - (dx + dy + 2) / 4); // lit from the top left
        const i = (y * width + x) * 3;
        rgb[i] = colour[0] * shade;
        rgb[i + 1] = colour[1] * shade;
        rgb[i + 2] = colour[2] * shade;
      }
    }
  }

  // Sensor noise: approximately Gaussian (sum of uniforms), shared by all channels (luma) plus a
  // smaller independent part per channel (chroma).
  const out = Buffer.allocUnsafe(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const luma = (random() + random() + random() - 1.5) * 12;
    const i = p * 3;
    for (let c = 0; c < 3; c++) {
      out[i + c] = clamp(Math.round(rgb[i + c] + luma + (random() - 0.5) * 6));
    }
  }
  return out;
}
