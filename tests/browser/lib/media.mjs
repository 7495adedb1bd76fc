// media.mjs - what the media browser tests (14-16) share: files made in
// the page (a photo drawn on a canvas, a video recorded from a canvas),
// attaching them through the attach button, network throttling over CDP,
// and reading a chat's messages over the API from a page.
import crypto from 'node:crypto';

// A photo drawn on a canvas: w x h, a gradient and noise (so the encoder
// has something to keep), as PNG or JPEG bytes.
// noise: random pixels all over (a photo that stays big once encoded).
export async function makePhoto(page, { width = 1600, height = 1200, type = 'image/png', quality = 0.92, noise = false } = {}) {
  const b64 = await page.evaluate(
    async ({ width, height, type, quality, noise }) => {
      const c = document.createElement('canvas');
      c.width = width;
      c.height = height;
      const g = c.getContext('2d');
      const grad = g.createLinearGradient(0, 0, width, height);
      grad.addColorStop(0, '#f97316');
      grad.addColorStop(0.5, '#ec4899');
      grad.addColorStop(1, '#4f46e5');
      g.fillStyle = grad;
      g.fillRect(0, 0, width, height);
      g.fillStyle = 'rgba(255,255,255,0.85)';
      g.beginPath();
      g.arc(width * 0.7, height * 0.35, Math.min(width, height) * 0.18, 0, Math.PI * 2);
      g.fill();
      g.fillStyle = '#1e293b';
      g.beginPath();
      g.moveTo(0, height);
      g.lineTo(width * 0.35, height * 0.45);
      g.lineTo(width * 0.6, height * 0.8);
      g.lineTo(width * 0.8, height * 0.6);
      g.lineTo(width, height);
      g.fill();
      if (noise) {
        const px = g.getImageData(0, 0, width, height);
        for (let i = 0; i < px.data.length; i += 4) {
          const n = (Math.random() - 0.5) * 120;
          px.data[i] += n;
          px.data[i + 1] += n;
          px.data[i + 2] += n;
        }
        g.putImageData(px, 0, 0);
      }
      const blob = await new Promise((r) => c.toBlob(r, type, quality));
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    },
    { width, height, type, quality, noise },
  );
  return Buffer.from(b64, 'base64');
}

// A JPEG with an EXIF segment naming a GPS position (a marker string we can
// look for in what the server stores).
export function withExif(jpeg, marker) {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), Buffer.from(`MM\0*\0\0\0\x08GPS ${marker}`, 'binary')]);
  const seg = Buffer.alloc(4);
  seg[0] = 0xff;
  seg[1] = 0xe1;
  seg.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), seg, body, jpeg.subarray(2)]);
}

// A WebM video recorded from a canvas (captureStream + MediaRecorder).
export async function makeVideo(page, { ms = 3000, width = 320, height = 240 } = {}) {
  const b64 = await page.evaluate(
    async ({ ms, width, height }) => {
      const c = document.createElement('canvas');
      c.width = width;
      c.height = height;
      const g = c.getContext('2d');
      const rec = new MediaRecorder(c.captureStream(25), { mimeType: 'video/webm;codecs=vp8' });
      const chunks = [];
      rec.ondataavailable = (e) => e.data.size && chunks.push(e.data);
      rec.start(250);
      const t0 = performance.now();
      await new Promise((done) => {
        const step = () => {
          const t = performance.now() - t0;
          g.fillStyle = `hsl(${(t / 8) % 360}, 75%, 55%)`;
          g.fillRect(0, 0, width, height);
          g.fillStyle = '#fff';
          g.fillRect(((t / 8) % (width + 40)) - 40, height / 2 - 20, 40, 40);
          if (t < ms) requestAnimationFrame(step);
          else done();
        };
        step();
      });
      await new Promise((done) => {
        rec.onstop = done;
        rec.stop();
      });
      const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    },
    { ms, width, height },
  );
  return Buffer.from(b64, 'base64');
}

// Random bytes (incompressible), for the big-file tests.
export function randomFile(bytes) {
  return crypto.randomBytes(bytes);
}

export function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

// Attaches files through the attach button's file input.
export async function attach(page, files) {
  await page.locator('.attach-input').setInputFiles(files);
  await page.locator('.tray:not([hidden])').waitFor();
}

// Sends what is in the tray (and the composer's text).
export async function sendTray(page) {
  await page.getByRole('button', { name: 'Send', exact: true }).click();
}

// Upload/download speed limits through the DevTools protocol (bytes/s; -1
// is no limit). Returns the CDP session.
export async function throttle(context, page, { up = -1, down = -1 } = {}) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, uploadThroughput: up, downloadThroughput: down });
  return cdp;
}

// The chat's newest messages as the API gives them, from the page's session.
export async function apiHistory(page, chatId) {
  return page.evaluate(async (id) => {
    const r = await fetch(`/api/chats/${encodeURIComponent(id)}/messages?limit=50`, { credentials: 'same-origin' });
    const j = await r.json();
    return j.messages || j;
  }, chatId);
}

// The bytes of a media id, downloaded with the page's session.
export async function fetchMedia(page, id) {
  const r = await page.evaluate(async (mid) => {
    const res = await fetch(`/api/media/${mid}`, { credentials: 'same-origin', cache: 'no-store' });
    const bytes = new Uint8Array(await res.arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { status: res.status, type: res.headers.get('Content-Type'), b64: btoa(s) };
  }, id);
  return { ...r, bytes: Buffer.from(r.b64, 'base64') };
}
