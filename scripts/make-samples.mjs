// Renders the demo images `npm start` loads into the `demo` bucket. The outputs are committed under
// samples/; run `node scripts/make-samples.mjs` only to change them.
import sharp from "sharp";

const out = (name) => new URL(`../samples/${name}`, import.meta.url).pathname;

function landscape(width, height) {
  const hills = Array.from({ length: 5 }, (_, i) => {
    const y = height * (0.55 + i * 0.08);
    const shade = 60 + i * 30;
    return `<path d="M0 ${y} Q ${width * 0.3} ${y - 120 + i * 20} ${width * 0.6} ${y - 20} T ${width} ${y - 60} V ${height} H 0 Z" fill="rgb(${shade / 3},${shade},${shade / 2})"/>`;
  }).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#1d4e89"/><stop offset="0.6" stop-color="#f4a261"/><stop offset="1" stop-color="#e76f51"/>
    </linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#sky)"/>
    <circle cx="${width * 0.72}" cy="${height * 0.38}" r="${height * 0.1}" fill="#ffe8a3"/>
    ${hills}
    <text x="${width * 0.04}" y="${height * 0.12}" font-family="sans-serif" font-size="${height * 0.07}" fill="white">oss-image-worker</text>
  </svg>`;
}

const logo = `<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256">
  <circle cx="128" cy="128" r="110" fill="#2a9d8f" fill-opacity="0.85"/>
  <rect x="78" y="78" width="100" height="100" rx="18" fill="#e9c46a"/>
</svg>`;

await sharp(Buffer.from(landscape(1024, 768)))
  .jpeg({ quality: 88 })
  .toFile(out("sample.jpg"));
// Stored sideways with EXIF Orientation 6, as phones do: OSS shows it upright by default.
await sharp(Buffer.from(landscape(800, 600)))
  .rotate(-90)
  .jpeg({ quality: 88 })
  .withMetadata({ orientation: 6 })
  .toFile(out("sideways-exif6.jpg"));
await sharp(Buffer.from(logo)).png().toFile(out("logo.png"));
await sharp(Buffer.from(landscape(640, 480)))
  .webp({ quality: 85 })
  .toFile(out("sample.webp"));
// A small looping animation: the sun moving over the hills, 8 frames.
const frames = await Promise.all(
  Array.from({ length: 8 }, (_, i) =>
    sharp(
      Buffer.from(
        landscape(320, 240).replace(/cx="[^"]+" cy="[^"]+"/, `cx="${40 + i * 32}" cy="${90 - i * 4}"`),
      ),
    )
      .png()
      .toBuffer(),
  ),
);
await sharp(frames, { join: { animated: true } })
  .gif({ loop: 0, delay: Array(frames.length).fill(120) })
  .toFile(out("animated.gif"));
console.log("wrote samples/");
