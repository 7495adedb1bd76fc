// media.js - media inside message bubbles: photos at their aspect ratio
// (the blurred thumbnail holds the box while the full image loads lazily),
// videos with their poster and duration, voice notes with a waveform,
// duration and speed, files as a card with a download. Also the pending
// bubble of an upload (preview, progress, cancel).
//
// The list rebuilds a row whenever its message changes (a tick): the media
// element of a message is kept here by media id and moved into the new row,
// so a playing video or voice note keeps playing.
import { h, showControls } from '../dom.js';
import { icon } from '../icons.js';
import { cancelUpload, sentBlobUrl, uploadProgress } from '../media/uploads.js';
import { download } from '../media/tus.js';
import { on } from '../store.js';
import { openLightbox } from './lightbox.js';
import { formatDuration, voiceEl } from './voice.js';

export { formatDuration };

export const BIG = 200 * 1024; // transfers above this show a progress bar
const MAX_W = 300;
const MAX_H = 340;
const MIN_W = 120;
const MIN_H = 60;
const KEEP = 120;
const kept = new Map(); // media id -> element (oldest first)

export function mediaUrl(id) {
  return `/api/media/${encodeURIComponent(id)}`;
}

export function formatSize(n) {
  if (!(n >= 0)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(1)} GB`;
}

// The box of a photo or video: its aspect ratio, scaled into MAX_W x MAX_H.
// The size is the peer's word (0..20000 each way): a "1 x 20000" photo was a
// box 2.4 million pixels tall, a "20000 x 1" one a line no one could tap.
// The box stays MIN_W..MAX_W wide and MIN_H..MAX_H tall; object-fit: cover
// crops an extreme picture into it (the lightbox shows it whole).
function sizeBox(el, w, h) {
  if (!(w > 0 && h > 0)) {
    w = 4;
    h = 3;
  }
  const k = Math.min(1, MAX_W / w, MAX_H / h);
  const bw = Math.max(MIN_W, Math.round(w * k));
  const bh = Math.min(MAX_H, Math.max(MIN_H, Math.round((bw * h) / w)));
  el.style.width = `${bw}px`;
  el.style.aspectRatio = `${bw} / ${bh}`;
}

function keep(key, build) {
  let el = kept.get(key);
  if (el) {
    kept.delete(key);
  } else {
    el = build();
  }
  kept.set(key, el);
  if (kept.size > KEEP) {
    for (const [k, old] of kept) {
      if (kept.size <= KEEP) break;
      if (old.isConnected) continue;
      kept.delete(k);
    }
  }
  return el;
}

function photoEl(m, chat, src) {
  const md = m.media;
  const full = h('img', { class: 'media-full', alt: '', decoding: 'async', draggable: 'false' });
  const box = h(
    'button',
    {
      type: 'button',
      class: 'media-photo',
      'aria-label': `Photo${md.name ? `, ${showControls(md.name)}` : ''}. Open`,
      onclick: (e) => {
        e.stopPropagation();
        openLightbox(chat, m.seq, box);
      },
    },
    md.thumb ? h('img', { class: 'media-thumb', alt: '', src: md.thumb, draggable: 'false' }) : null,
    full,
  );
  sizeBox(box, md.width, md.height);
  full.addEventListener('load', () => box.classList.add('loaded'), { once: true });
  if (md.size > BIG && !src.startsWith('blob:')) return loadWithProgress(box, full, md, src);
  full.loading = 'lazy';
  full.src = src;
  return box;
}

// A photo over ~200 KB: fetched when it comes into view, with a progress
// bar and a cancel button over the blurred thumbnail (cancelled, a tap on
// the download button loads it again). The overlay is the photo button's
// sibling (no button inside a button); returns their wrapper.
function loadWithProgress(box, full, md, src) {
  const bar = h('progress', { class: 'media-progress', max: 1, value: 0 });
  const btn = h('button', { type: 'button', class: 'media-load-btn' });
  const overlay = h('span', { class: 'media-load' }, btn, bar);
  const wrap = h('div', { class: 'media-photo-wrap' }, box, overlay);
  sizeBox(wrap, md.width, md.height);
  box.style.width = '100%'; // the wrapper has the size
  let ctl = null;
  const idle = () => {
    ctl = null;
    bar.hidden = true;
    btn.replaceChildren(icon('download', { size: 18 }));
    btn.setAttribute('aria-label', `Load the photo (${formatSize(md.size)})`);
  };
  const start = () => {
    ctl = { abort() {} };
    const mine = ctl;
    bar.hidden = false;
    btn.replaceChildren(icon('close', { size: 18 }));
    btn.setAttribute('aria-label', 'Cancel loading the photo');
    download(src, (got, total) => (bar.value = got / (total || md.size || 1)), mine).then(
      (blob) => {
        overlay.remove();
        full.src = URL.createObjectURL(blob);
      },
      (e) => {
        if (ctl === mine) idle();
        // A redirect to storage elsewhere that does not allow reading it
        // from script (CORS): the plain image still loads, without progress.
        if (e.code === 'network') {
          overlay.remove();
          full.src = src;
        } else if (e.code !== 'aborted') console.warn('duet: a photo could not be loaded', e);
      },
    );
  };
  const toggle = (e) => {
    e.stopPropagation();
    e.preventDefault();
    if (ctl) ctl.abort();
    else start();
  };
  btn.addEventListener('click', toggle);
  idle();
  const io = new IntersectionObserver((entries) => {
    if (!entries.some((en) => en.isIntersecting)) return;
    io.disconnect();
    if (!ctl && !full.src) start();
  });
  io.observe(box);
  return wrap;
}

function videoEl(md, src) {
  const v = h('video', { class: 'media-video-el', controls: '', preload: 'metadata', playsinline: '' });
  if (md.thumb) v.poster = md.thumb;
  v.src = src;
  const box = h(
    'div',
    { class: 'media-video' },
    v,
    md.duration_ms ? h('span', { class: 'media-badge', 'aria-hidden': 'true' }, formatDuration(md.duration_ms)) : null,
  );
  v.addEventListener('play', () => box.classList.add('started'), { once: true });
  sizeBox(box, md.width, md.height);
  return box;
}

// ---- files ---------------------------------------------------------------------

// A file name is the peer's text: its bidi controls are shown as code points
// ("invoice<U+202E>fdp.exe", not "invoiceexe.pdf"), as in link text.
function fileEl(md, src) {
  const shown = showControls(md.name || 'file');
  const ext = (md.name || '').includes('.') ? md.name.split('.').pop().toUpperCase().slice(0, 5) : '';
  const bar = h('progress', { class: 'media-progress', max: 1, value: 0, hidden: true });
  const dl = h(
    'button',
    { type: 'button', class: 'icon-btn small file-dl', 'aria-label': `Download ${shown}` },
    icon('download', { size: 18 }),
  );
  const card = h(
    'div',
    { class: 'file-card' },
    h(
      'span',
      { class: 'file-icon', 'aria-hidden': 'true' },
      icon('file', { size: 22 }),
      ext ? h('span', { class: 'file-ext' }, ext) : null,
    ),
    h(
      'div',
      { class: 'file-info' },
      h('span', { class: 'file-name', dir: 'auto', title: shown }, shown),
      h('span', { class: 'file-size' }, formatSize(md.size)),
      bar,
    ),
    dl,
  );
  dl.addEventListener('click', (e) => {
    e.stopPropagation();
    saveMedia(md, src, { bar, button: dl, card });
  });
  return card;
}

// Saves a media file: small ones through a plain link (the server answers
// with Content-Disposition), big ones with a progress bar and cancel.
export function saveMedia(md, src, ui = {}) {
  const name = md.name || 'file';
  const shown = showControls(name);
  if (!(md.size > BIG) || src.startsWith('blob:')) {
    clickLink(src, name);
    return;
  }
  if (ui.ctl) {
    ui.ctl.abort();
    return;
  }
  const ctl = { abort() {} };
  ui.ctl = ctl;
  const { bar, button, card } = ui;
  if (bar) {
    bar.hidden = false;
    bar.value = 0;
  }
  card?.classList.add('downloading');
  button?.replaceChildren(icon('close', { size: 18 }));
  button?.setAttribute('aria-label', `Cancel the download of ${shown}`);
  const done = () => {
    ui.ctl = null;
    if (bar) bar.hidden = true;
    card?.classList.remove('downloading');
    button?.replaceChildren(icon('download', { size: 18 }));
    button?.setAttribute('aria-label', `Download ${shown}`);
  };
  download(src, (got, total) => bar && (bar.value = total || md.size ? got / (total || md.size) : 0), ctl).then(
    (blob) => {
      done();
      const url = URL.createObjectURL(blob);
      clickLink(url, name);
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    },
    (e) => {
      done();
      // Storage elsewhere that script may not read (CORS): a plain link.
      if (e.code === 'network') clickLink(src, name);
      else if (e.code !== 'aborted') console.warn('duet: download failed', e);
    },
  );
}

function clickLink(href, name) {
  const a = h('a', { href, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
}

// ---- bubbles -------------------------------------------------------------------

// The media part of a message bubble; src defaults to the server's copy.
export function mediaEl(m, chat) {
  const md = m.media;
  const src = sentBlobUrl(m.id) || mediaUrl(md.id);
  const key = `${md.id}|${m.type}`;
  switch (m.type) {
    case 1:
      return keep(key, () => photoEl(m, chat, src));
    case 2:
      return keep(key, () => videoEl(md, src));
    case 3:
      return keep(key, () => voiceEl(md, src));
    default:
      return keep(key, () => fileEl(md, src));
  }
}

// Puts the media in front of a text bubble (the caption), and marks a
// bubble without caption so that the time sits over the photo.
export function decorateBubble(bubble, m, chat) {
  bubble.classList.add('media-bubble', `media-t${m.type}`);
  if (!m.text) bubble.classList.add('no-caption');
  bubble.prepend(mediaEl(m, chat));
  return bubble;
}

const previews = new Map(); // outbox id -> object URL of its blob

function previewUrl(it) {
  let u = previews.get(it.id);
  if (!u && it.blob) {
    u = URL.createObjectURL(it.blob);
    previews.set(it.id, u);
  }
  return u;
}

// Object URLs of outbox items that are gone.
on('outbox', () => {
  queueMicrotask(() => {
    for (const [id, u] of previews) {
      if (!document.querySelector(`.row.pending[data-id="${CSS.escape(id)}"]`)) {
        setTimeout(() => URL.revokeObjectURL(u), 30000);
        previews.delete(id);
      }
    }
  });
});

// A pending media item: its preview, a progress bar over ~200 KB, cancel.
export function decoratePending(bubble, it) {
  const md = it.media;
  bubble.classList.add('media-bubble', `media-t${md.type}`);
  if (!it.text) bubble.classList.add('no-caption');
  let preview;
  if (md.type === 1) {
    preview = h('div', { class: 'media-photo loaded' }, h('img', { class: 'media-full', alt: '', src: previewUrl(it) || md.thumb || '' }));
    sizeBox(preview, md.width, md.height);
  } else if (md.type === 2) {
    preview = h('div', { class: 'media-photo loaded' }, md.thumb ? h('img', { class: 'media-full', alt: '', src: md.thumb }) : null);
    sizeBox(preview, md.width, md.height);
  } else {
    preview = h(
      'div',
      { class: 'file-card' },
      h('span', { class: 'file-icon', 'aria-hidden': 'true' }, icon(md.type === 3 ? 'mic' : 'file', { size: 22 })),
      h(
        'div',
        { class: 'file-info' },
        h('span', { class: 'file-name', dir: 'auto' }, md.type === 3 ? `Voice message, ${formatDuration(md.duration_ms)}` : md.name),
        h('span', { class: 'file-size' }, formatSize(md.size)),
      ),
    );
  }
  const big = md.size > BIG;
  const bar = h('progress', {
    class: 'media-progress upload-progress',
    max: 1,
    value: md.size ? uploadProgress(it.id) / md.size : 0,
    hidden: !big || it.uploaded || !!it.failed,
    dataset: { id: it.id, size: String(md.size || 0) },
    'aria-label': `Uploading ${md.name || 'file'}`,
  });
  const cancel =
    it.uploaded || it.failed
      ? null
      : h(
          'button',
          {
            type: 'button',
            class: 'upload-cancel',
            'aria-label': `Cancel sending ${md.name || 'file'}`,
            onclick: (e) => {
              e.stopPropagation();
              cancelUpload(it.id);
            },
          },
          icon('close', { size: 16 }),
        );
  bubble.prepend(h('div', { class: 'upload-box' }, preview, h('div', { class: 'upload-ctl' }, bar, cancel)));
  return bubble;
}

// Progress updates go to the bars directly (no re-render of the rows).
on('upload', (id) => {
  for (const bar of document.querySelectorAll(`.upload-progress[data-id="${CSS.escape(id)}"]`)) {
    const size = Number(bar.dataset.size || 0);
    if (size) bar.value = Math.min(1, uploadProgress(id) / size);
  }
});
