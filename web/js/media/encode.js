// encode.js - everything the server never does with media, done here: a
// photo re-encoded (longest side <= 2560 px; drawing it to a canvas drops
// EXIF, GPS included), the small inline thumbnail, a video's poster frame,
// dimensions and duration, a voice note's duration and 64-peak waveform.
//
// prepareFile() resolves to a draft: {type, mime, name, size, blob, width,
// height, duration_ms, waveform, thumb}; type 1 image, 2 video, 3 audio
// (voice note), 4 file.

export const TYPE = { image: 1, video: 2, audio: 3, file: 4 };
const MAX_SIDE = 2560;
const THUMB_SIDE = 64;
const POSTER_SIDE = 160;
const THUMB_MAX = 16 * 1024; // the server's bound on the data URL
const PEAKS = 64;
// Images the browser can decode and we re-encode; GIFs keep their bytes
// (re-encoding would drop the animation).
const REENCODE = /^image\/(jpeg|png|webp|bmp|avif)$/;
const INLINE_VIDEO = /^video\/(mp4|webm|ogg|quicktime)$/;

function canvas(w, h) {
  const c = document.createElement('canvas');
  c.width = Math.max(1, Math.round(w));
  c.height = Math.max(1, Math.round(h));
  return c;
}

function toBlob(c, type, quality) {
  return new Promise((resolve) => c.toBlob(resolve, type, quality));
}

function fit(w, h, side) {
  const k = Math.min(1, side / Math.max(w, h));
  return [Math.max(1, Math.round(w * k)), Math.max(1, Math.round(h * k))];
}

// A small WebP (JPEG where WebP cannot be written) data URL of a drawable,
// under the server's 16 KiB.
export function thumbOf(src, w, h, side = THUMB_SIDE) {
  for (let s = side, q = 0.6; s >= 16; s = Math.round(s * 0.7), q -= 0.1) {
    const [tw, th] = fit(w, h, s);
    const c = canvas(tw, th);
    c.getContext('2d').drawImage(src, 0, 0, tw, th);
    let url = c.toDataURL('image/webp', Math.max(0.3, q));
    if (!url.startsWith('data:image/webp')) url = c.toDataURL('image/jpeg', Math.max(0.3, q));
    if (url.length <= THUMB_MAX) return url;
  }
  return null;
}

async function decodeImage(blob) {
  // from-image: a phone photo's EXIF rotation is applied before the EXIF goes.
  return createImageBitmap(blob, { imageOrientation: 'from-image' });
}

async function prepareImage(file) {
  const bmp = await decodeImage(file);
  try {
    const [w, h] = fit(bmp.width, bmp.height, MAX_SIDE);
    const thumb = thumbOf(bmp, bmp.width, bmp.height);
    if (!REENCODE.test(file.type)) {
      return { type: TYPE.image, mime: file.type, blob: file, width: bmp.width, height: bmp.height, thumb };
    }
    const c = canvas(w, h);
    c.getContext('2d').drawImage(bmp, 0, 0, w, h);
    let out = await toBlob(c, 'image/webp', 0.85);
    if (!out || out.type !== 'image/webp') out = await toBlob(c, 'image/jpeg', 0.85);
    if (!out) throw new Error('the photo could not be encoded');
    return { type: TYPE.image, mime: out.type, blob: out, width: w, height: h, thumb };
  } finally {
    bmp.close();
  }
}

function once(el, ok, bad = 'error') {
  return new Promise((resolve, reject) => {
    const done = () => {
      el.removeEventListener(ok, done);
      el.removeEventListener(bad, fail);
      resolve();
    };
    const fail = () => {
      el.removeEventListener(ok, done);
      el.removeEventListener(bad, fail);
      reject(new Error(`media ${bad}`));
    };
    el.addEventListener(ok, done);
    el.addEventListener(bad, fail);
  });
}

// A MediaRecorder file has no duration in its header: seeking far past the
// end makes the browser find it.
async function durationOf(el) {
  if (Number.isFinite(el.duration) && el.duration > 0) return el.duration;
  const changed = once(el, 'durationchange');
  el.currentTime = 1e7;
  await Promise.race([changed, new Promise((r) => setTimeout(r, 3000))]);
  const d = Number.isFinite(el.duration) ? el.duration : 0;
  el.currentTime = 0;
  return d;
}

async function prepareVideo(file) {
  const url = URL.createObjectURL(file);
  const v = document.createElement('video');
  v.muted = true;
  v.playsInline = true;
  v.preload = 'auto';
  try {
    const meta = once(v, 'loadeddata');
    v.src = url;
    await meta;
    const d = await durationOf(v);
    // The poster: a frame a little in (the first is often black).
    const at = Math.min(1, d / 4);
    if (Math.abs(v.currentTime - at) > 0.01) {
      const seeked = once(v, 'seeked');
      v.currentTime = at;
      await Promise.race([seeked, new Promise((r) => setTimeout(r, 3000))]);
    }
    const w = v.videoWidth;
    const h = v.videoHeight;
    if (!w || !h) throw new Error('no video frames');
    const thumb = thumbOf(v, w, h, POSTER_SIDE);
    return { type: TYPE.video, mime: file.type, blob: file, width: w, height: h, duration_ms: Math.round(d * 1000), thumb };
  } finally {
    v.removeAttribute('src');
    v.load();
    URL.revokeObjectURL(url);
  }
}

// 64 peaks (0..255) of the decoded audio, and its duration.
export async function analyseAudio(blob) {
  const Ctx = window.OfflineAudioContext || window.webkitOfflineAudioContext;
  const ctx = new Ctx(1, 1, 48000);
  const buf = await ctx.decodeAudioData(await blob.arrayBuffer());
  const data = buf.getChannelData(0);
  const per = Math.max(1, Math.floor(data.length / PEAKS));
  const peaks = [];
  let max = 0;
  for (let i = 0; i < PEAKS; i++) {
    let p = 0;
    for (let j = i * per; j < Math.min(data.length, (i + 1) * per); j++) p = Math.max(p, Math.abs(data[j]));
    peaks.push(p);
    max = Math.max(max, p);
  }
  // Normalised, so that a quiet recording still draws a shape.
  const waveform = peaks.map((p) => (max > 0 ? Math.round((p / max) * 255) : 0));
  return { waveform, duration_ms: Math.round(buf.duration * 1000) };
}

// A bare mime type: "audio/webm;codecs=opus" -> "audio/webm".
export function bareMime(t) {
  return String(t || '')
    .split(';')[0]
    .trim()
    .toLowerCase();
}

// A voice note from the recorder.
export async function prepareVoice(blob, elapsedMs) {
  const mime = bareMime(blob.type) || 'audio/webm';
  let a = { waveform: [], duration_ms: elapsedMs };
  try {
    a = await analyseAudio(blob);
    if (!a.duration_ms) a.duration_ms = elapsedMs;
  } catch (e) {
    console.warn('duet: the voice note could not be analysed', e);
  }
  const ext = mime === 'audio/ogg' ? 'ogg' : 'webm';
  return { type: TYPE.audio, mime, name: `voice.${ext}`, size: blob.size, blob, ...a };
}

// A file the user attached; asFile keeps the original bytes (type 4).
export async function prepareFile(file, { asFile = false } = {}) {
  const mime = bareMime(file.type) || 'application/octet-stream';
  const base = { name: file.name || 'file', mime, blob: file };
  let d = null;
  if (!asFile) {
    try {
      if (mime.startsWith('image/') && mime !== 'image/svg+xml') d = await prepareImage(file);
      else if (INLINE_VIDEO.test(mime)) d = await prepareVideo(file);
    } catch (e) {
      console.warn('duet: sent as a file, it could not be read as media', e);
      d = null;
    }
  }
  // Photos and videos need a thumbnail (the server requires it): without
  // one, the bytes go as a file.
  if (!d || ((d.type === TYPE.image || d.type === TYPE.video) && !d.thumb)) d = { type: TYPE.file };
  const out = { ...base, ...d };
  if (out.type === TYPE.image && out.blob !== file) out.name = renameExt(out.name, out.mime);
  out.size = out.blob.size;
  return out;
}

function renameExt(name, mime) {
  const ext = { 'image/webp': 'webp', 'image/jpeg': 'jpg' }[mime];
  if (!ext) return name;
  const dot = name.lastIndexOf('.');
  return `${dot > 0 ? name.slice(0, dot) : name}.${ext}`;
}
